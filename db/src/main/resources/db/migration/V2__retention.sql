-- Retention: finished jobs are deleted, with their attempts and bodies, once they are older
-- than fetchq.retention.finished-jobs. This index finds them oldest first without scanning
-- the history; it holds only finished jobs, so unfinished ones cost it nothing.
CREATE INDEX job_finished ON fetchq.job (finished_at) WHERE finished_at IS NOT NULL;
