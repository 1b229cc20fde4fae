-- Reads that stay cheap however long the history grows.
--
-- 1. Jobs by state, per batch and in all, are counted as they change, not by counting rows:
--    fetchq.job_count holds the counts; the statements that change jobs' states add what they changed,
--    and statement triggers on fetchq.job count inserted and deleted jobs. A batch's progress, "is it
--    done", and the installation's totals read a few counter rows.
-- 2. A batch's running jobs are counted from the queue by the batch (queue.batch_id), not by
--    joining every running job of the installation.
-- 3. Each filter of GET /api/v1/jobs has an index to page through in id order, and the failures of
--    the last hour are read from an index of failed jobs. A job's tenant and host are indexed in a
--    table of their own (fetchq.job_lookup), written once when the job is inserted: writing a job's
--    result rewrites an entry in every index of fetchq.job, and these two would double that work.

-- Counts of jobs by their job.state: 'queued' (unfinished) is every job not final yet, running
-- ones included (running is recorded on the queue row only). batch_id 0 counts every job, in a
-- batch or not. Each writer adds to a slot of its own (its backend's pid modulo 32), so that
-- concurrent writers of one batch do not queue on one row; a count is the sum over a key's slots.
CREATE TABLE fetchq.job_count (
    batch_id         bigint   NOT NULL,
    slot             smallint NOT NULL,
    unfinished       bigint   NOT NULL DEFAULT 0,
    completed        bigint   NOT NULL DEFAULT 0,
    failed           bigint   NOT NULL DEFAULT 0,
    cancelled        bigint   NOT NULL DEFAULT 0,
    -- When the last of the key's jobs finished (for a batch's finished_at).
    last_finished_at timestamptz,
    PRIMARY KEY (batch_id, slot)
) WITH (fillfactor = 50);

-- What one statement changed: n jobs of (batch, state) came (n > 0) or went (n < 0).
CREATE TYPE fetchq.job_count_delta AS (batch_id bigint, state text, finished_at timestamptz, n bigint);

-- Adds changes to the counts: each delta to its batch's count and to the count of every job. Counter
-- rows are written in key order, so that writers cannot deadlock on them, and only where something
-- changed. The statements that change a job's state (results, rescue, cancel, retry) call this with
-- what they changed; inserts and deletes are counted by the triggers below.
-- PL/pgSQL rather than SQL: its statement is planned once per connection, not at every call.
CREATE FUNCTION fetchq.count_job_changes(deltas fetchq.job_count_delta[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fetchq.job_count AS c (batch_id, slot, unfinished, completed, failed, cancelled, last_finished_at)
    SELECT k.batch_id, (pg_backend_pid() % 32)::smallint,
           COALESCE(sum(d.n) FILTER (WHERE d.state NOT IN ('completed', 'failed', 'cancelled')), 0),
           COALESCE(sum(d.n) FILTER (WHERE d.state = 'completed'), 0),
           COALESCE(sum(d.n) FILTER (WHERE d.state = 'failed'), 0),
           COALESCE(sum(d.n) FILTER (WHERE d.state = 'cancelled'), 0),
           max(d.finished_at) FILTER (WHERE d.n > 0)
    FROM unnest(deltas) d
    CROSS JOIN LATERAL (VALUES (0::bigint), (d.batch_id)) k(batch_id)
    WHERE k.batch_id IS NOT NULL
    GROUP BY k.batch_id
    HAVING sum(d.n) FILTER (WHERE d.state NOT IN ('completed', 'failed', 'cancelled')) <> 0
        OR sum(d.n) FILTER (WHERE d.state = 'completed') <> 0
        OR sum(d.n) FILTER (WHERE d.state = 'failed') <> 0
        OR sum(d.n) FILTER (WHERE d.state = 'cancelled') <> 0
    ORDER BY k.batch_id
    ON CONFLICT (batch_id, slot) DO UPDATE
    SET unfinished = c.unfinished + EXCLUDED.unfinished,
        completed = c.completed + EXCLUDED.completed,
        failed = c.failed + EXCLUDED.failed,
        cancelled = c.cancelled + EXCLUDED.cancelled,
        last_finished_at = GREATEST(c.last_finished_at, EXCLUDED.last_finished_at);
END;
$$;

-- Counts every job again from the rows: the counts of jobs whose state someone changed with SQL of
-- their own (fetchq's statements keep them current). Locks fetchq.job against writes meanwhile.
CREATE FUNCTION fetchq.recount_jobs() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE fetchq.job IN SHARE MODE;
    DELETE FROM fetchq.job_count;
    INSERT INTO fetchq.job_count (batch_id, slot, unfinished, completed, failed, cancelled, last_finished_at)
    SELECT k.batch_id, 0,
           count(*) FILTER (WHERE j.state NOT IN ('completed', 'failed', 'cancelled')),
           count(*) FILTER (WHERE j.state = 'completed'),
           count(*) FILTER (WHERE j.state = 'failed'),
           count(*) FILTER (WHERE j.state = 'cancelled'),
           max(j.finished_at)
    FROM fetchq.job j
    CROSS JOIN LATERAL (VALUES (0::bigint), (j.batch_id)) k(batch_id)
    WHERE k.batch_id IS NOT NULL
    GROUP BY k.batch_id;
END;
$$;

-- Jobs by tenant and by host, for listings in id order: one row per job, inserted with it and
-- never updated.
CREATE TABLE fetchq.job_lookup (
    job_id bigint NOT NULL,
    tenant text   NOT NULL,
    host   text   NOT NULL
);

-- Jobs inserted (intake, by whatever statement) and deleted (retention): their counts and lookup
-- rows. State changes are counted by the statements that make them: a trigger on updates would
-- copy every updated row, results and links included, to find the few columns it needs.
CREATE FUNCTION fetchq.count_jobs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    deltas fetchq.job_count_delta[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO fetchq.job_lookup (job_id, tenant, host) SELECT id, tenant, host FROM new_rows;
        SELECT array_agg(ROW(x.batch_id, x.state, x.finished_at, x.n)::fetchq.job_count_delta) INTO deltas
        FROM (SELECT batch_id, state, max(finished_at) AS finished_at, count(*) AS n
              FROM new_rows GROUP BY batch_id, state) x;
    ELSE
        DELETE FROM fetchq.job_lookup l USING old_rows o WHERE l.tenant = o.tenant AND l.job_id = o.id;
        SELECT array_agg(ROW(x.batch_id, x.state, NULL, -x.n)::fetchq.job_count_delta) INTO deltas
        FROM (SELECT batch_id, state, count(*) AS n FROM old_rows GROUP BY batch_id, state) x;
    END IF;
    IF deltas IS NOT NULL THEN
        PERFORM fetchq.count_job_changes(deltas);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER job_count_insert AFTER INSERT ON fetchq.job
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchq.count_jobs();
CREATE TRIGGER job_count_delete AFTER DELETE ON fetchq.job
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchq.count_jobs();

-- TRUNCATE empties the table without a row to count: the counts go with it.
CREATE FUNCTION fetchq.forget_job_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM fetchq.job_count;
    TRUNCATE fetchq.job_lookup;
    RETURN NULL;
END;
$$;
CREATE TRIGGER job_count_truncate AFTER TRUNCATE ON fetchq.job
    FOR EACH STATEMENT EXECUTE FUNCTION fetchq.forget_job_counts();

-- The counts of what is there now. The triggers above lock fetchq.job against writes until this
-- migration commits, so nothing is counted twice or missed.
SELECT fetchq.recount_jobs();

-- A queue row knows its job's batch: a batch's running jobs are found by the batch. The running
-- rows' index is by batch and no longer by lease expiry: the rescuer reads every running row anyway
-- (they are at most what the workers hold), and a lease renewal, which changes only the expiry,
-- then changes no indexed column and can be a HOT update.
ALTER TABLE fetchq.queue ADD COLUMN batch_id bigint;
UPDATE fetchq.queue q SET batch_id = j.batch_id FROM fetchq.job j WHERE j.id = q.job_id AND j.batch_id IS NOT NULL;
CREATE INDEX queue_running ON fetchq.queue (batch_id) WHERE state = 'running';
DROP INDEX fetchq.queue_lease;

-- Progress from the counts and the batch's running rows: a few rows, whatever the batch's size
-- or the installation's.
CREATE OR REPLACE VIEW fetchq.batch_progress AS
SELECT b.id                                   AS batch_id,
       b.total,
       c.unfinished - r.running               AS queued,
       r.running,
       c.completed,
       c.failed,
       c.cancelled,
       (c.unfinished = 0)                     AS done,
       b.created_at,
       CASE WHEN c.unfinished = 0 THEN c.last_finished_at END AS finished_at
FROM fetchq.batch b
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(n.unfinished), 0)::bigint AS unfinished,
           COALESCE(sum(n.completed), 0)::bigint  AS completed,
           COALESCE(sum(n.failed), 0)::bigint     AS failed,
           COALESCE(sum(n.cancelled), 0)::bigint  AS cancelled,
           max(n.last_finished_at)                AS last_finished_at
    FROM fetchq.job_count n
    WHERE n.batch_id = b.id
) c
CROSS JOIN LATERAL (
    SELECT count(*) AS running
    FROM fetchq.queue q
    WHERE q.batch_id = b.id AND q.state = 'running'
) r;

-- GET /api/v1/jobs pages through jobs in id order: a tenant's jobs, a host's (each with the tenant,
-- for a tenant's jobs of a host), and finished jobs by state (unfinished ones are read from the
-- queue, which holds only them).
INSERT INTO fetchq.job_lookup (job_id, tenant, host) SELECT id, tenant, host FROM fetchq.job;
CREATE INDEX job_lookup_tenant ON fetchq.job_lookup (tenant, job_id);
CREATE INDEX job_lookup_host ON fetchq.job_lookup (host, job_id) INCLUDE (tenant);
CREATE INDEX job_finished_state ON fetchq.job (state, id) WHERE finished_at IS NOT NULL;

-- Failures of the last hour by kind (GET /api/v1/stats), read from the index alone.
CREATE INDEX job_failed ON fetchq.job (finished_at) INCLUDE (error_kind) WHERE state = 'failed';
