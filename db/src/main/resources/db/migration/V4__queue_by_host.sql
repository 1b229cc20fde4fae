-- Due jobs by host. The claim order (queue_due) is global: a big backlog of one host can fill
-- the window a claim reads while a worker has room only for other hosts. This index lets a claim
-- walk the hosts that have due jobs (a skip scan, one probe per host; run_at is checked in the
-- index, so jobs scheduled for later are passed over without reading the table), and take one
-- host's first jobs in claim order (the trial calls of a half-open breaker).
CREATE INDEX queue_host_due ON fetchq.queue (host, priority DESC, run_at) WHERE state = 'queued';

-- Hosts a worker holds back because the server asked it to wait (Retry-After), written by its
-- heartbeat next to open_hosts: a host with due jobs, none running, and neither paused nor behind
-- an open breaker anywhere is stuck (GET /api/v1/hosts).
ALTER TABLE fetchq.worker ADD COLUMN paused_hosts text[] NOT NULL DEFAULT '{}';

-- A batch's jobs in id order, for exports read page by page (keyset on id): each page is a short
-- query of its own, so a slow reader holds no connection while it reads. The included columns
-- keep the batch's progress counts index-only, as the index this replaces did.
DROP INDEX fetchq.job_batch;
CREATE INDEX job_batch ON fetchq.job (batch_id, id) INCLUDE (state, finished_at) WHERE batch_id IS NOT NULL;
