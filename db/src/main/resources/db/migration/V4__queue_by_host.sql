-- Due jobs by host. The claim order (queue_due) is global: a big backlog of one host can fill
-- the window a claim reads while a worker has room only for other hosts. This index lets a claim
-- walk the hosts that have due jobs (a skip scan, one probe per host; run_at is checked in the
-- index, so jobs scheduled for later are passed over without reading the table), take one host's
-- first jobs in claim order (trial calls of a half-open breaker), and find each host's oldest due
-- job for GET /api/v1/hosts.
CREATE INDEX queue_host_due ON fetchq.queue (host, priority DESC, run_at) WHERE state = 'queued';
