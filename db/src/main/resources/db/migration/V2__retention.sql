-- Retention: finished jobs are deleted, with their attempts and bodies, once they are older
-- than fetchq.retention.finished-jobs. This index finds them oldest first without scanning
-- the history, and counts finished jobs by state (GET /api/v1/stats) from the index
-- alone. It holds only finished jobs, so unfinished ones cost it nothing.
CREATE INDEX job_finished ON fetchq.job (finished_at) INCLUDE (state) WHERE finished_at IS NOT NULL;

-- Hosts whose circuit breaker is open (or half-open) in a worker, written by its heartbeat, so
-- that the API can show breaker state, which lives in the workers' memory.
ALTER TABLE fetchq.worker ADD COLUMN open_hosts text[] NOT NULL DEFAULT '{}';
