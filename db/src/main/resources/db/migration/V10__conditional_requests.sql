-- Conditional requests, changes, and bodies stored once per tenant.
--
-- Every conditional GET (a schedule's, or one submitted with "conditional": true) that ends with a
-- 200 leaves what it saw of its URL in fetchq.url_state, one row per (tenant, URL): the validators
-- (ETag, Last-Modified) and the body's SHA-256. The completion statement reads the row it
-- replaces to say whether the body changed, and the next conditional job of that URL is claimed
-- with the validators, sends them, and on a 304 keeps the earlier body as the current one. Their
-- bodies are kept once per tenant and SHA-256 in fetchq.body_content, a job's fetchq.body row
-- pointing at its content; other jobs' bodies stay in their body row.

-- Whether a GET sends the validators of its URL's last 200 (a schedule's jobs do by default).
ALTER TABLE fetchq.job ADD COLUMN conditional boolean NOT NULL DEFAULT false;
ALTER TABLE fetchq.schedule_job ADD COLUMN conditional boolean NOT NULL DEFAULT true;

-- The result's validators as the response gave them, whether it was a 304, and whether the body
-- differs from the URL's previous 200 in the tenant (null: nothing to compare with).
ALTER TABLE fetchq.job ADD COLUMN etag text, ADD COLUMN last_modified timestamptz,
                       ADD COLUMN not_modified boolean, ADD COLUMN changed boolean;

-- A URL's current version in a tenant. Keyed by the URL's SHA-256 (fixed-size keys, however long
-- the URL). job_id is the latest job holding this version: its 200, or a 304 since (which copied
-- the version's result). Only the primary key is indexed, so that the updates of every completion
-- can stay heap-only; retention deletes a row with the job it names (by this key).
CREATE TABLE fetchq.url_state (
    tenant         text        NOT NULL,
    url_key        bytea       NOT NULL,
    etag           text,
    last_modified  timestamptz,
    body_sha256    text,
    content_type   text,
    body_bytes     bigint,
    body_truncated boolean,
    job_id         bigint      NOT NULL,
    fetched_at     timestamptz NOT NULL
) WITH (fillfactor = 80);
ALTER TABLE fetchq.url_state ADD PRIMARY KEY (tenant, url_key);

-- Bodies, once per tenant and content. A job's body row names its content by (tenant, sha256);
-- rows written before this version keep their bytes inline (body), new ones never do.
CREATE TABLE fetchq.body_content (
    tenant text  NOT NULL,
    sha256 bytea NOT NULL,
    body   bytea NOT NULL,
    PRIMARY KEY (tenant, sha256)
);
ALTER TABLE fetchq.body ALTER COLUMN body DROP NOT NULL,
                        ADD COLUMN tenant text, ADD COLUMN sha256 bytea;
ALTER TABLE fetchq.body ADD CONSTRAINT body_inline_or_content
    CHECK ((body IS NULL) = (sha256 IS NOT NULL) AND (sha256 IS NULL) = (tenant IS NULL)) NOT VALID;
-- Whether any job still points at a content (retention's check before deleting it).
CREATE INDEX body_by_content ON fetchq.body (tenant, sha256) WHERE sha256 IS NOT NULL;

-- Contents whose last pointing body row may have gone: retention deletes those no row points at
-- any more. Filled by a trigger, so that every way a body row goes (retention, a retry, a job's
-- deletion by cascade) is seen, in the transaction that deletes it.
CREATE TABLE fetchq.body_release (
    tenant text  NOT NULL,
    sha256 bytea NOT NULL,
    PRIMARY KEY (tenant, sha256)
);

CREATE FUNCTION fetchq.release_bodies() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fetchq.body_release (tenant, sha256)
    SELECT DISTINCT tenant, sha256 FROM old_rows WHERE sha256 IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER body_released AFTER DELETE ON fetchq.body
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchq.release_bodies();

CREATE OR REPLACE VIEW fetchq.job_bodies AS
SELECT b.job_id, b.content_type, COALESCE(b.body, c.body) AS body
FROM fetchq.body b
LEFT JOIN fetchq.body_content c ON c.tenant = b.tenant AND c.sha256 = b.sha256
WHERE b.body IS NOT NULL OR c.sha256 IS NOT NULL;

CREATE OR REPLACE VIEW fetchq.job_results AS
SELECT j.id                                         AS job_id,
       j.batch_id,
       j.url,
       j.host,
       j.method,
       CASE WHEN q.state = 'running' THEN 'running' ELSE j.state END AS state,
       j.priority,
       COALESCE(q.attempt, j.attempts) - j.budget_base AS attempts,
       j.max_attempts::integer                      AS max_attempts,
       j.metadata,
       j.status_code::integer                       AS status_code,
       j.content_type,
       j.body_bytes,
       j.body_truncated,
       j.body_sha256,
       j.title,
       j.links,
       j.final_url,
       j.error_kind,
       j.error_message,
       j.created_at,
       CASE WHEN q.state <> 'running' THEN q.run_at END AS next_attempt_at,
       COALESCE(j.started_at, q.first_started_at)   AS started_at,
       j.finished_at,
       j.total_ms,
       j.etag,
       j.last_modified,
       j.not_modified,
       j.changed
FROM fetchq.job j
LEFT JOIN fetchq.queue q ON q.job_id = j.id;
