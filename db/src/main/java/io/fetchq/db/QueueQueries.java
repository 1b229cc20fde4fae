package io.fetchq.db;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The worker's hot path: claim due jobs, record attempts, complete many jobs in one statement, and
 * keep leases alive. Every write after a claim is fenced by the claim ({@code lease_token} and
 * {@code attempt} still match, state still running): a worker that lost its lease changes nothing.
 */
@Repository
public class QueueQueries {

    /**
     * Claims up to {@code limit} due jobs, highest priority first, then earliest due, and at most
     * as many per host as the caller can start (host-aware claiming: one busy host must not hold
     * leases on hundreds of jobs while others wait). Candidates come from a window of the claim
     * order read from the partial index; the window is not locked, the picked rows are (SKIP
     * LOCKED), so concurrent claimers take disjoint sets. A host's room is the caller's figure when
     * it gives one, else its live share of the host (fetchq.host_share) and the buffer behind it,
     * else the default: a worker names only the hosts it holds jobs of. Besides the claimed jobs,
     * rows with no job name the window's hosts the caller had no room for ({@code unserved}): where
     * it may ask for room.
     */
    private static final String CLAIM_DUE = """
            WITH candidates AS (
                SELECT job_id, host, priority, run_at FROM fetchq.due_window(?)
            ), ranked AS (
                SELECT c.job_id, c.host, c.priority, c.run_at,
                       row_number() OVER (PARTITION BY c.host COLLATE "C" ORDER BY c.priority DESC, c.run_at) AS host_rank,
                       -- The caller's room for the host, else its live share's slots and the buffer behind them.
                       COALESCE(b.free, (SELECT s.granted + LEAST(?::int, ceil(s.granted * ?::numeric / 100))::int
                                         FROM fetchq.host_share s
                                         WHERE s.host = c.host AND s.worker_id = ? AND s.expires_at > now()), ?) AS host_free
                FROM candidates c
                LEFT JOIN unnest(?::text[], ?::int[]) AS b(host, free) ON b.host = c.host
            ), picked AS (
                -- The window's ids as an array, so that each row is looked up by key (see UPDATE),
                -- and "still queued" said so that no partial index matches it: on statistics that
                -- see few queued rows, "state = 'queued'" here had the planner AND the ids with a
                -- scan of every due row in queue_host_due.
                SELECT q.job_id
                FROM fetchq.queue q
                WHERE q.job_id = ANY (ARRAY(SELECT job_id FROM ranked WHERE host_rank <= host_free))
                  AND q.state NOT IN ('scheduled', 'running') AND q.run_at <= now()
                ORDER BY q.priority DESC, q.run_at, q.job_id
                LIMIT ?
                FOR UPDATE OF q SKIP LOCKED
            ), claimed AS (
            """ + ClaimSql.UPDATE + """
            )
            SELECT *, NULL AS unserved FROM claimed
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, u.host
            FROM (SELECT DISTINCT host FROM ranked WHERE host_free = 0) u
            """;

    /**
     * Refills hosts this worker is busy with: each named host's first due jobs in claim order, up to
     * its room, read from {@code queue_host_due} — exactly the rows wanted, where the claim order's
     * window would read many to find a few of one host.
     */
    private static final String CLAIM_HOSTS = """
            WITH picked AS (
                SELECT c.job_id
                -- The arrays behind sub-selects: the planner then reckons with as many hosts for
                -- every call, so that after a few calls the statement runs a plan prepared once
                -- rather than being planned again each time (which cost more than running it).
                FROM unnest((SELECT ?::text[]), (SELECT ?::int[])) AS r(host, free)
                CROSS JOIN LATERAL (
            """ + ClaimSql.HOST_HEAD + """
                ) c
            )
            """ + ClaimSql.UPDATE;

    /**
     * Claims trial jobs for a host whose circuit breaker is half-open: a random sample of its first
     * due jobs in claim order, leaving out the given ones (they failed a recent trial). A sample,
     * not the head of the queue: the head may be a block of failing URLs, and trials taken only
     * from it would keep the breaker open while the host's other jobs would answer.
     */
    private static final String CLAIM_TRIALS = """
            WITH sample AS (
                SELECT job_id
                FROM fetchq.queue
                WHERE host = ? AND state = 'queued' AND run_at <= now() AND job_id <> ALL (?::bigint[])
                ORDER BY priority DESC, run_at
                LIMIT ?
            ), picked AS (
                SELECT q.job_id
                FROM fetchq.queue q
                JOIN (SELECT job_id FROM sample ORDER BY random() LIMIT ?) s ON s.job_id = q.job_id
                WHERE q.state = 'queued' AND q.run_at <= now()
                FOR UPDATE OF q SKIP LOCKED
            )
            """ + ClaimSql.UPDATE;

    /** Pieces the claim statements share. */
    private static final class ClaimSql {
        /** A host's first {@code r.free} due jobs in claim order, locked (index {@code queue_host_due}). */
        static final String HOST_HEAD = """
                    SELECT q.job_id
                    FROM fetchq.queue q
                    WHERE q.host = r.host AND q.state = 'queued' AND q.run_at <= now()
                    ORDER BY q.priority DESC, q.run_at
                    LIMIT r.free
                    FOR UPDATE SKIP LOCKED
                """;

        /**
         * The end of every claim statement: the picked rows become this worker's, with their jobs'
         * requests. The picked ids go in as an array, so that each row and its job are looked up by
         * primary key whatever the planner guesses of how many were picked (it guesses a tenth of a
         * host's due jobs for a {@code LIMIT} it cannot see, and with a guess of thousands it read the
         * whole queue into a hash). A conditional job brings its URL's validators (the state its
         * last 200 left, looked up by key only for such jobs).
         */
        static final String UPDATE = """
                UPDATE fetchq.queue q
                SET state = 'running', attempt = q.attempt + 1, lease_token = ?,
                    lease_expires_at = now() + ? * interval '1 millisecond', worker_id = ?,
                    first_started_at = COALESCE(q.first_started_at, now()), attempt_started_at = now()
                FROM fetchq.job j
                WHERE q.job_id = ANY (ARRAY(SELECT job_id FROM picked)) AND j.id = q.job_id
                RETURNING q.job_id, q.attempt, q.attempt_limit, j.max_attempts, j.url, j.host, j.method,
                          j.headers::text AS headers, j.body, j.timeout_ms, j.max_body_bytes, j.store_body,
                          j.follow_redirects, j.extract, j.robots, j.crawl_id, j.depth, j.sitemap,
                          CASE WHEN j.conditional THEN (
                              SELECT ARRAY[s.etag, (extract(epoch FROM s.last_modified) * 1000000)::bigint::text]
                              FROM fetchq.url_state s
                              WHERE s.tenant = j.tenant AND s.url_key = sha256(convert_to(j.url, 'UTF8'))) END AS validators
                """;
    }

    /**
     * Records a failed attempt and starts the next one under the same claim: the attempt counter
     * moves first, so a crash during the next request can never let a job exceed its budget.
     */
    private static final String NEXT_ATTEMPT = """
            WITH claim AS (
                UPDATE fetchq.queue
                SET attempt = attempt + 1, lease_expires_at = now() + ? * interval '1 millisecond',
                    attempt_started_at = now()
                WHERE job_id = ? AND lease_token = ? AND attempt = ? AND state = 'running'
                  AND NOT cancel_requested AND attempt < attempt_limit
                RETURNING job_id
            ), recorded AS (
                INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, status_code, content_type,
                                            body_bytes, error_kind, error_message, dns_ms, connect_ms, tls_ms, ttfb_ms,
                                            total_ms, remote_ip, redirects)
                SELECT job_id, ?, ?, timestamptz 'epoch' + ?::bigint * interval '1 microsecond',
                       timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::int, ?::text, ?::bigint, ?::text,
                       ?::text, ?::int, ?::int, ?::int, ?::int, ?::int, ?::inet, ?::jsonb FROM claim
                ON CONFLICT DO NOTHING
            )
            SELECT job_id FROM claim
            """;

    /**
     * One statement for a whole batch of ended attempts. {@code fenced} keeps the rows whose claim
     * still holds and locks them; final ones (and requeues of jobs whose cancel was requested) leave
     * the queue and write the job's result; the others go back to the queue with a due time;
     * releases give the attempt back. Attempt rows are written for fenced, non-released rows only.
     *
     * <p>A conditional GET that ends completed with a 200 or a 304 is tracked: {@code fenced} reads
     * its URL's state (what the last tracked 200 in the tenant left), {@code ending} works out the
     * result — a 304 of a tracked URL keeps the earlier version as the current one, and
     * {@code changed} compares the body with the earlier one — and {@code tracked} writes the URL's
     * new state. A tracked body is stored once per tenant and content ({@code contents}), the job's
     * body row pointing at it; other bodies are stored in the body row itself. (Tracking every GET
     * was measured at 38 µs of database time per job, three quarters of what writing a result
     * costs otherwise: jobs that do not watch their URL do not pay it.)
     */
    private static final String COMPLETE_MANY = """
            WITH input AS (
                -- One row per claim, a claim being (job, lease token, attempt): results of two claims of
                -- one job (a stale one and the live one) both go on to the fence, which keeps only the
                -- live one; should a release and a result of the same claim meet here, the result wins.
                -- Columns: the claim, how it ends, the attempt's record (AttemptColumns), the result.
                -- The arrays behind sub-selects: a plan made for one call's arrays costs as much as the
                -- plan for any, so that the statement is planned once per connection, not at every
                -- call (its planning takes longer than running it for a few dozen results).
                SELECT DISTINCT ON (u.job_id, u.lease_token, u.attempt) * FROM unnest(
                        (SELECT ?::bigint[]), (SELECT ?::uuid[]), (SELECT ?::int[]),
                        (SELECT ?::text[]), (SELECT ?::bigint[]), (SELECT ?::boolean[]),
                        (SELECT ?::bigint[]), (SELECT ?::bigint[]), (SELECT ?::int[]), (SELECT ?::text[]),
                        (SELECT ?::bigint[]), (SELECT ?::text[]), (SELECT ?::text[]),
                        (SELECT ?::int[]), (SELECT ?::int[]), (SELECT ?::int[]), (SELECT ?::int[]), (SELECT ?::int[]),
                        (SELECT ?::text[]), (SELECT ?::text[]),
                        (SELECT ?::boolean[]), (SELECT ?::text[]), (SELECT ?::text[]), (SELECT ?::text[]),
                        (SELECT ?::text[]), (SELECT ?::bytea[]), (SELECT ?::text[]), (SELECT ?::bigint[]))
                    AS u(job_id, lease_token, attempt,
                         final_state, retry_delay_ms, release,
                         started_us, finished_us, status_code, content_type, body_bytes, error_kind, error_message,
                         dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms, remote_ip, redirects,
                         body_truncated, body_sha256, title, links, final_url, body, etag, last_modified_us)
                ORDER BY u.job_id, u.lease_token, u.attempt, u.release
            ), fenced AS (
                -- Rows locked in job order, so that concurrent statements over the same jobs (the
                -- heartbeat, another completer) cannot deadlock.
                -- Attempt times arrive as microseconds since the epoch: binary integers, no text to parse.
                SELECT i.*, q.first_started_at, j.tenant, j.batch_id,
                       CASE WHEN j.conditional AND i.final_state = 'completed' AND i.status_code IN (200, 304)
                                 AND j.method = 'GET'
                            THEN sha256(convert_to(j.url, 'UTF8')) END AS url_key,
                       timestamptz 'epoch' + i.started_us * interval '1 microsecond' AS started_at,
                       timestamptz 'epoch' + i.finished_us * interval '1 microsecond' AS finished_at,
                       CASE WHEN i.final_state IS NOT NULL THEN i.final_state
                            WHEN q.cancel_requested THEN 'cancelled' END AS end_state,
                       s.job_id AS prior_job, s.etag AS prior_etag, s.last_modified AS prior_last_modified,
                       s.body_sha256 AS prior_sha256, s.content_type AS prior_content_type,
                       s.body_bytes AS prior_body_bytes, s.body_truncated AS prior_body_truncated,
                       p.title AS prior_title, p.links AS prior_links
                -- The lease token alone says the row is running: a row carries one only while it
                -- runs (every statement that ends a run clears it). Naming the state would let the
                -- planner read the whole running index (queue_running, dead entries included)
                -- for every statement instead of one primary-key lookup per row.
                FROM input i
                JOIN fetchq.queue q ON q.job_id = i.job_id AND q.lease_token = i.lease_token
                                   AND q.attempt = i.attempt
                JOIN fetchq.job j ON j.id = i.job_id
                -- The URL's state, for conditional GETs that end completed with a 200 or a 304: by its
                -- key, the expression written out (a column computed beside the join is not an index
                -- condition).
                LEFT JOIN fetchq.url_state s ON j.conditional AND i.final_state = 'completed'
                                            AND i.status_code IN (200, 304) AND j.method = 'GET' AND s.tenant = j.tenant
                                            AND s.url_key = sha256(convert_to(j.url, 'UTF8'))
                -- A 304 copies the current version's extracted fields from the job that holds it.
                LEFT JOIN fetchq.job p ON i.status_code = 304 AND p.id = s.job_id
                ORDER BY i.job_id
                FOR UPDATE OF q
            ), ending AS (
                -- Final rows and their results. "kept": a 304 of a tracked URL, whose earlier version
                -- stays the current one (its body, hash and extracted fields are the result's).
                -- A tracked job's body is kept once per tenant and content (content_key); others inline.
                SELECT e.*, CASE WHEN e.url_key IS NOT NULL AND e.sha256_now ~ '^[0-9a-f]{64}$'
                                 THEN decode(e.sha256_now, 'hex') END AS content_key
                FROM (
                    SELECT f.*, k.kept,
                           CASE WHEN k.kept THEN f.prior_sha256 ELSE f.body_sha256 END AS sha256_now,
                           CASE WHEN k.kept THEN f.prior_content_type ELSE f.content_type END AS content_type_now,
                           CASE WHEN k.kept THEN f.prior_body_bytes ELSE f.body_bytes END AS body_bytes_now,
                           CASE WHEN k.kept THEN f.prior_body_truncated ELSE f.body_truncated END AS body_truncated_now,
                           CASE WHEN k.kept THEN f.prior_title ELSE f.title END AS title_now,
                           CASE WHEN k.kept THEN f.prior_links ELSE f.links::jsonb END AS links_now,
                           CASE WHEN k.kept THEN COALESCE(f.etag, f.prior_etag) ELSE f.etag END AS etag_now,
                           CASE WHEN k.kept THEN COALESCE(f.last_modified_us, (extract(epoch FROM f.prior_last_modified) * 1000000)::bigint)
                                ELSE f.last_modified_us END AS last_modified_us_now,
                           CASE WHEN f.final_state = 'completed' THEN f.status_code = 304 END AS not_modified,
                           CASE WHEN f.final_state = 'completed' AND f.status_code = 304 THEN false
                                WHEN f.url_key IS NOT NULL AND f.status_code = 200 AND f.prior_job IS NOT NULL
                                THEN f.prior_sha256 IS DISTINCT FROM f.body_sha256 END AS changed
                    FROM fenced f
                    CROSS JOIN LATERAL (SELECT f.url_key IS NOT NULL AND f.status_code = 304 AND f.prior_job IS NOT NULL AS kept) k
                    WHERE f.end_state IS NOT NULL
                ) e
            ), ended AS (
                DELETE FROM fetchq.queue q USING fenced f
                WHERE q.job_id = f.job_id AND f.end_state IS NOT NULL
            ), requeued AS (
                UPDATE fetchq.queue q
                SET state = CASE WHEN f.retry_delay_ms > 0 THEN 'scheduled' ELSE 'queued' END,
                    lease_token = NULL, lease_expires_at = NULL, worker_id = NULL,
                    run_at = now() + f.retry_delay_ms * interval '1 millisecond',
                    attempt = CASE WHEN f.release THEN q.attempt - 1 ELSE q.attempt END
                FROM fenced f
                WHERE q.job_id = f.job_id AND f.end_state IS NULL
            ), results AS (
                UPDATE fetchq.job j
                SET state = e.end_state, attempts = CASE WHEN e.release THEN e.attempt - 1 ELSE e.attempt END,
                    started_at = e.first_started_at, finished_at = now(),
                    status_code = e.status_code, content_type = e.content_type_now, body_bytes = e.body_bytes_now,
                    body_truncated = e.body_truncated_now, body_sha256 = e.sha256_now, title = e.title_now,
                    links = e.links_now, final_url = e.final_url,
                    error_kind = CASE WHEN e.final_state IS NULL THEN 'cancelled' ELSE e.error_kind END,
                    error_message = CASE WHEN e.final_state IS NULL THEN 'cancelled by request' ELSE e.error_message END,
                    total_ms = e.total_ms, etag = e.etag_now,
                    last_modified = timestamptz 'epoch' + e.last_modified_us_now * interval '1 microsecond',
                    not_modified = e.not_modified, changed = e.changed
                FROM ending e
                WHERE j.id = e.job_id
                -- What finished, as "jobs finished" notifications name it (Finished), and what to count.
                RETURNING CASE WHEN j.batch_id IS NULL THEN 'j' || j.id ELSE 'b' || j.batch_id END AS finished,
                          j.batch_id, j.state, j.finished_at, 'queued' AS from_state
            ), """ + Events.SUBSCRIBED + """
            , job_events AS (
                SELECT e.tenant, t.type, e.batch_id, e.job_id, NULL::bigint AS schedule_id
                FROM ending e
                CROSS JOIN LATERAL (VALUES ('job.failed', e.end_state = 'failed'), ('job.changed', e.changed IS TRUE))
                    AS t(type, happened)
                WHERE t.happened
            ), """ + Events.write("job_events") + """
            , unsure AS (
                -- Batches this statement finished jobs of, whose completion someone subscribes to, and
                -- with no witness that one of their jobs stays unfinished past this transaction: one
                -- this statement queues again, or another running one locked here so that no one can
                -- end it before this transaction commits (rows others are ending are locked: skipped).
                -- For these the caller reads whether the batch is done, under the batch's lock (Events).
                SELECT b.batch_id
                FROM (SELECT DISTINCT batch_id, tenant FROM ending WHERE batch_id IS NOT NULL) b
                WHERE EXISTS (SELECT 1 FROM subscribed s WHERE s.tenant = b.tenant
                                                        AND s.events && ARRAY['batch.completed', 'schedule.run_completed'])
                  AND NOT EXISTS (SELECT 1 FROM fenced f WHERE f.batch_id = b.batch_id AND f.end_state IS NULL)
                  AND (SELECT q.job_id FROM fetchq.queue q
                       WHERE q.batch_id = b.batch_id AND q.state = 'running'
                         AND q.job_id <> ALL (ARRAY(SELECT job_id FROM fenced))
                       LIMIT 1 FOR KEY SHARE OF q SKIP LOCKED) IS NULL
            ), tracked AS (
                -- The URLs' new state, the latest job of each; in key order, so that statements
                -- writing the same URLs cannot deadlock.
                INSERT INTO fetchq.url_state AS s (tenant, url_key, etag, last_modified, body_sha256, content_type,
                                                   body_bytes, body_truncated, job_id, fetched_at)
                -- A response older than the version kept (a slow job's, written late) leaves it.
                SELECT DISTINCT ON (e.tenant, e.url_key) e.tenant, e.url_key, e.etag_now,
                       timestamptz 'epoch' + e.last_modified_us_now * interval '1 microsecond', e.sha256_now,
                       e.content_type_now, e.body_bytes_now, e.body_truncated_now, e.job_id, e.finished_at
                FROM ending e
                WHERE e.url_key IS NOT NULL AND (e.status_code = 200 OR e.kept)
                ORDER BY e.tenant, e.url_key, e.finished_at DESC, e.job_id DESC
                ON CONFLICT (tenant, url_key) DO UPDATE
                SET etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, body_sha256 = EXCLUDED.body_sha256,
                    content_type = EXCLUDED.content_type, body_bytes = EXCLUDED.body_bytes,
                    body_truncated = EXCLUDED.body_truncated, job_id = EXCLUDED.job_id, fetched_at = EXCLUDED.fetched_at
                WHERE s.fetched_at <= EXCLUDED.fetched_at
            ), attempts AS (
                INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, status_code,
                                            content_type, body_bytes, error_kind, error_message, dns_ms, connect_ms,
                                            tls_ms, ttfb_ms, total_ms, remote_ip, redirects)
                SELECT f.job_id, f.attempt, ?, f.started_at, f.finished_at, f.status_code, f.content_type,
                       f.body_bytes, f.error_kind, f.error_message, f.dns_ms, f.connect_ms, f.tls_ms, f.ttfb_ms,
                       f.total_ms, f.remote_ip::inet, f.redirects::jsonb
                FROM fenced f
                WHERE NOT f.release
                ON CONFLICT DO NOTHING
            ), contents AS (
                -- Each body once per tenant and content; in key order, so that statements storing
                -- the same new contents cannot deadlock.
                INSERT INTO fetchq.body_content (tenant, sha256, body)
                SELECT e.tenant, e.content_key, e.body
                FROM ending e
                WHERE e.body IS NOT NULL AND e.content_key IS NOT NULL AND NOT e.kept
                ORDER BY e.tenant, e.content_key
                ON CONFLICT DO NOTHING
            ), bodies AS (
                -- A kept 304 points at the earlier content, where it was stored; an untracked body is
                -- kept in the row itself.
                INSERT INTO fetchq.body (job_id, content_type, tenant, sha256, body)
                SELECT e.job_id, e.content_type_now,
                       CASE WHEN e.content_key IS NOT NULL THEN e.tenant END, e.content_key,
                       CASE WHEN e.content_key IS NULL THEN e.body END
                FROM ending e
                WHERE e.body IS NOT NULL
                  AND (NOT e.kept OR EXISTS (SELECT 1 FROM fetchq.body_content c
                                             WHERE c.tenant = e.tenant AND c.sha256 = e.content_key))
                ON CONFLICT (job_id) DO UPDATE
                SET content_type = EXCLUDED.content_type, tenant = EXCLUDED.tenant, sha256 = EXCLUDED.sha256,
                    body = EXCLUDED.body
            ), """ + Counts.cte("results") + """

            -- Written claims, then what finished, then batches to settle, then nothing from counted
            -- (read so that it runs): arms of a union, as a join of the CTEs would be planned as a
            -- loop over one of them.
            SELECT job_id, NULL AS finished, NULL::bigint AS unsure FROM fenced
            UNION ALL SELECT NULL, finished, NULL FROM results
            UNION ALL SELECT NULL, NULL, batch_id FROM unsure
            UNION ALL SELECT NULL, NULL, NULL FROM counted
            """;

    /**
     * Returns jobs whose lease expired to the queue, or ends them when their budget is spent or a
     * cancel was requested, recording the lost attempt as {@code lease_expired}. Fenced like every
     * other write: a heartbeat that renewed the lease first wins (the row no longer matches), and
     * concurrent rescuers skip each other's rows.
     */
    private static final String RESCUE_EXPIRED = """
            WITH expired AS (
                SELECT job_id, attempt, attempt_limit, worker_id, attempt_started_at, first_started_at, cancel_requested
                FROM fetchq.queue
                WHERE state = 'running' AND lease_expires_at < now()
                ORDER BY lease_expires_at
                LIMIT ?
                FOR UPDATE SKIP LOCKED
            ), lost AS (
                INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, error_kind, error_message)
                SELECT job_id, attempt, worker_id, COALESCE(attempt_started_at, now()), now(), 'lease_expired',
                       'worker ' || COALESCE(worker_id, '?') || ' stopped renewing its lease'
                FROM expired
                ON CONFLICT DO NOTHING
            ), requeued AS (
                UPDATE fetchq.queue q
                SET state = 'queued', lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, run_at = now()
                FROM expired e
                WHERE q.job_id = e.job_id AND e.attempt < e.attempt_limit AND NOT e.cancel_requested
                RETURNING q.job_id
            ), ended AS (
                DELETE FROM fetchq.queue q
                USING expired e
                WHERE q.job_id = e.job_id AND (e.attempt >= e.attempt_limit OR e.cancel_requested)
                RETURNING q.job_id
            ), results AS (
                UPDATE fetchq.job j
                SET state = CASE WHEN e.cancel_requested THEN 'cancelled' ELSE 'failed' END,
                    attempts = e.attempt, started_at = e.first_started_at, finished_at = now(),
                    error_kind = CASE WHEN e.cancel_requested THEN 'cancelled' ELSE 'lease_expired' END,
                    error_message = CASE WHEN e.cancel_requested THEN 'cancelled by request'
                                         ELSE 'worker ' || COALESCE(e.worker_id, '?') || ' stopped renewing its lease' END
                FROM expired e
                WHERE j.id = e.job_id AND (e.attempt >= e.attempt_limit OR e.cancel_requested)
                RETURNING CASE WHEN j.batch_id IS NULL THEN 'j' || j.id ELSE 'b' || j.batch_id END AS finished,
                          j.batch_id, j.state, j.finished_at, 'queued' AS from_state, j.tenant, j.id AS job_id
            ), """ + Events.SUBSCRIBED + """
            , job_events AS (
                SELECT r.tenant, 'job.failed' AS type, r.batch_id, r.job_id, NULL::bigint AS schedule_id
                FROM results r WHERE r.state = 'failed'
            ), """ + Events.write("job_events") + ", " + Counts.cte("results") + """

            SELECT (SELECT count(*) FROM requeued) AS requeued, (SELECT count(*) FROM ended) AS ended,
                   (SELECT array_agg(DISTINCT finished) FROM results) AS finished,
                   (SELECT array_agg(DISTINCT batch_id) FROM results WHERE batch_id IS NOT NULL) AS batches, """
            + Counts.RUN;

    private final JdbcTemplate jdbc;
    private final JdbcClient client;
    private final TransactionTemplate transactions;
    /** Made at the first crawl page written (it starts a notifier thread). */
    private volatile CrawlQueries crawls;

    public QueueQueries(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
        this.client = JdbcClient.create(jdbc);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(jdbc.getDataSource()));
    }

    /**
     * Claims due jobs and commits before returning: no transaction is held while they are fetched.
     *
     * @param limit most jobs to claim (the caller's free slots)
     * @param scan how far down the claim order to look for jobs of hosts with room
     * @param perHost jobs the caller can take of a host not in {@code hostRoom}
     * @param hostRoom jobs the caller can still take of hosts it is busy with (0 for none)
     */
    public List<ClaimedJob> claimDue(String workerId, int limit, int scan, int perHost, Map<String, Integer> hostRoom,
            Duration lease) {
        return claimDue(workerId, limit, scan, perHost, hostRoom, 0, 0, lease, new ArrayList<>());
    }

    /**
     * As {@link #claimDue(String, int, int, int, Map, Duration)}, a host's share giving it its slots
     * and a buffer of {@code bufferPercent} of them (at most {@code bufferMax}), adding to
     * {@code unserved} the hosts of the window that had no room.
     */
    public List<ClaimedJob> claimDue(String workerId, int limit, int scan, int perHost, Map<String, Integer> hostRoom,
            int bufferPercent, int bufferMax, Duration lease, Collection<String> unserved) {
        return claim(CLAIM_DUE, workerId, lease, unserved, (c, ps) -> {
            ps.setInt(1, scan);
            ps.setInt(2, bufferMax);
            ps.setInt(3, bufferPercent);
            ps.setString(4, workerId);
            ps.setInt(5, perHost);
            bindRoom(c, ps, 6, hostRoom);
            ps.setInt(8, limit);
            return 9;
        });
    }

    /** What {@link #walkHosts} found: hosts with due jobs, and where the next walk goes on from. */
    public record Walk(List<String> hosts, String next) {
    }

    /**
     * Up to {@code n} hosts with due jobs after {@code after} in the database's order of host names
     * (a skip scan of {@code queue_host_due}, one probe per host). {@code next} is the last host
     * visited, or "" once the walk reached the last host (the next one starts over).
     */
    public Walk walkHosts(String after, int n) {
        List<String> hosts = jdbc.queryForList("""
                WITH RECURSIVE hosts(host, n) AS (
                    SELECT (SELECT host FROM fetchq.queue
                            WHERE state = 'queued' AND run_at <= now() AND host > ? ORDER BY host LIMIT 1), 1
                    UNION ALL
                    SELECT (SELECT q.host FROM fetchq.queue q
                            WHERE q.state = 'queued' AND q.run_at <= now() AND q.host > h.host ORDER BY q.host LIMIT 1),
                           h.n + 1
                    FROM hosts h
                    WHERE h.host IS NOT NULL AND h.n < ?
                )
                SELECT host FROM hosts WHERE host IS NOT NULL ORDER BY n""", String.class, after, n);
        return new Walk(hosts, hosts.size() < n ? "" : hosts.getLast());
    }

    /**
     * Promotes up to {@code limit} scheduled jobs that came due to {@code queued}, oldest due first,
     * where claims find them; rows another worker is promoting are skipped. Commits before returning.
     *
     * @return how many were promoted
     */
    public int promoteDue(int limit) {
        return jdbc.update("""
                WITH due AS (
                    SELECT job_id FROM fetchq.queue
                    WHERE state = 'scheduled' AND run_at <= now()
                    ORDER BY run_at
                    LIMIT ?
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE fetchq.queue q SET state = 'queued' FROM due WHERE q.job_id = due.job_id""", limit);
    }

    /** Claims each host's first due jobs, up to its room; see {@link #CLAIM_HOSTS}. Commits before returning. */
    public List<ClaimedJob> claimHosts(String workerId, Map<String, Integer> hostRoom, Duration lease) {
        return claim(CLAIM_HOSTS, workerId, lease, (c, ps) -> {
            bindRoom(c, ps, 1, hostRoom);
            return 3;
        });
    }

    /**
     * Claims up to {@code limit} trial jobs of {@code host}, drawn at random from its first
     * {@code sample} due jobs, none of {@code exclude}; see {@link #CLAIM_TRIALS}. Commits before returning.
     */
    public List<ClaimedJob> claimTrials(String workerId, String host, int limit, int sample, Collection<Long> exclude,
            Duration lease) {
        return claim(CLAIM_TRIALS, workerId, lease, (c, ps) -> {
            ps.setString(1, host);
            ps.setArray(2, c.createArrayOf("int8", exclude.toArray(Long[]::new)));
            ps.setInt(3, sample);
            ps.setInt(4, limit);
            return 5;
        });
    }

    /** Binds a claim statement's own parameters and answers the index of the first of {@link ClaimSql#UPDATE}'s. */
    @FunctionalInterface
    private interface ClaimParameters {
        int bind(Connection c, PreparedStatement ps) throws SQLException;
    }

    private List<ClaimedJob> claim(String sql, String workerId, Duration lease, ClaimParameters parameters) {
        return claim(sql, workerId, lease, null, parameters);
    }

    private List<ClaimedJob> claim(String sql, String workerId, Duration lease, Collection<String> unserved,
            ClaimParameters parameters) {
        UUID token = UUID.randomUUID();
        return jdbc.execute((Connection c) -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int p = parameters.bind(c, ps);
                ps.setObject(p++, token);
                ps.setLong(p++, lease.toMillis());
                ps.setString(p, workerId);
                List<ClaimedJob> claimed = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (unserved != null && rs.getObject("job_id") == null) {
                            unserved.add(rs.getString("unserved"));
                            continue;
                        }
                        Array extract = rs.getArray("extract");
                        claimed.add(new ClaimedJob(new Claim(rs.getLong("job_id"), token, rs.getInt("attempt")),
                                rs.getInt("attempt_limit"), rs.getInt("max_attempts"), rs.getString("url"), rs.getString("host"),
                                rs.getString("method"), rs.getString("headers"), rs.getBytes("body"),
                                rs.getInt("timeout_ms"), rs.getInt("max_body_bytes"), rs.getBoolean("store_body"),
                                rs.getBoolean("follow_redirects"), List.of((String[]) extract.getArray()),
                                validators(rs.getArray("validators")), rs.getBoolean("robots"),
                                crawlPage(rs.getObject("crawl_id", Long.class), rs.getInt("depth"), rs.getBoolean("sitemap"))));
                    }
                }
                return claimed;
            }
        });
    }

    /** A claimed job's validators from {@code ARRAY[etag, last_modified µs]}, or null when it has none to send. */
    private static ClaimedJob.CrawlPage crawlPage(Long crawlId, int depth, boolean sitemap) {
        return crawlId == null ? null : new ClaimedJob.CrawlPage(crawlId, depth, sitemap);
    }

    private static ClaimedJob.Validators validators(Array array) throws SQLException {
        if (array == null) {
            return null;
        }
        String[] v = (String[]) array.getArray();
        Instant lastModified = v[1] == null ? null : AttemptColumns.instant(Long.parseLong(v[1]));
        return v[0] == null && lastModified == null ? null : new ClaimedJob.Validators(v[0], lastModified);
    }

    /**
     * Records {@code failed} (an attempt that ended retryably) and counts the next attempt under the
     * same claim, in one statement.
     *
     * @return false when the claim no longer holds, the budget is spent or a cancel was requested:
     *     then nothing was written and the caller must not make another request
     */
    public boolean nextAttempt(Completion.RetryAt failed, String workerId, Duration lease) {
        Claim claim = failed.claim();
        return Boolean.TRUE.equals(jdbc.execute((Connection c) -> {
            try (PreparedStatement ps = c.prepareStatement(NEXT_ATTEMPT)) {
                ps.setLong(1, lease.toMillis());
                ps.setLong(2, claim.jobId());
                ps.setObject(3, claim.leaseToken());
                ps.setInt(4, claim.attempt());
                ps.setInt(5, claim.attempt());
                ps.setString(6, workerId);
                AttemptColumns.bind(ps, 7, failed);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        }));
    }

    /**
     * Writes a batch of ended claims in one statement.
     *
     * @return ids of the jobs whose claim still held (the others were rescued or cancelled
     *     elsewhere: their writes were dropped)
     */
    public List<Long> completeMany(Collection<? extends Completion> completions, String workerId) {
        return completeMany(completions, workerId, new ArrayList<>());
    }

    /**
     * As {@link #completeMany(Collection, String)}, adding to {@code finished} the {@link Finished}
     * key of each job that reached its final state.
     */
    public List<Long> completeMany(Collection<? extends Completion> completions, String workerId,
            Collection<String> finished) {
        List<Completion> list = List.copyOf(completions);
        boolean crawlPages = list.stream().anyMatch(c -> !payload(c).crawlLinks().isEmpty());
        if (crawlPages || batchEventsWanted()) {
            // In one transaction: the results, a crawl page's links (so that neither is ever without
            // the other and the crawl's batch is never seen done in between), and the completion
            // events of the batches the statement may have finished (settled under their locks).
            long[] enqueued = {0};
            List<Long> written = transactions.execute(status -> {
                List<Long> unsure = new ArrayList<>();
                List<Long> ids = completeMany(list, workerId, finished, unsure);
                if (crawlPages) {
                    enqueued[0] = enqueueLinks(list, ids);
                }
                Events.settleBatches(client, unsure);
                return ids;
            });
            if (enqueued[0] > 0) {
                crawls().announce();
            }
            return written;
        }
        // No endpoint wanted batch events a moment ago: the statement commits on its own (a
        // transaction around it holds its row locks a round trip longer, measured at 14% of four
        // workers' throughput). Should an endpoint have come since, its batches are settled at once
        // in a transaction of their own.
        List<Long> unsure = new ArrayList<>();
        List<Long> written = completeMany(list, workerId, finished, unsure);
        if (!unsure.isEmpty()) {
            transactions.executeWithoutResult(status -> Events.settleBatches(client, unsure));
        }
        return written;
    }

    /** Enqueues the links of the crawl pages whose claim held ({@code written}), under their crawls' locks. */
    private long enqueueLinks(List<Completion> list, List<Long> written) {
        Set<Long> held = new HashSet<>(written);
        List<CrawlLink> links = new ArrayList<>();
        for (Completion c : list) {
            if (held.contains(c.claim().jobId())) {
                links.addAll(payload(c).crawlLinks());
            }
        }
        CrawlQueries crawls = crawls();
        crawls.lockCrawls(links.stream().map(CrawlLink::crawlId).toList());
        return crawls.enqueue(links);
    }

    private CrawlQueries crawls() {
        CrawlQueries made = crawls;
        if (made == null) {
            synchronized (this) {
                made = crawls;
                if (made == null) {
                    crawls = made = new CrawlQueries(jdbc);
                }
            }
        }
        return made;
    }

    /** How long whether any endpoint wants batch events is remembered. */
    private static final long SUBSCRIPTIONS_TTL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private volatile long subscriptionsCheckedAt = System.nanoTime() - SUBSCRIPTIONS_TTL_NANOS;
    private volatile boolean batchEventsWanted;

    /** Whether an enabled endpoint wants batch events, as read at most a second ago. */
    private boolean batchEventsWanted() {
        long now = System.nanoTime();
        if (now - subscriptionsCheckedAt >= SUBSCRIPTIONS_TTL_NANOS) {
            batchEventsWanted = Events.batchEventsWanted(client);
            subscriptionsCheckedAt = now;
        }
        return batchEventsWanted;
    }

    private List<Long> completeMany(List<Completion> list, String workerId, Collection<String> finished,
            Collection<Long> unsure) {
        return jdbc.execute((Connection c) -> {
            try (PreparedStatement ps = c.prepareStatement(COMPLETE_MANY)) {
                int p = 1;
                ps.setArray(p++, SqlArrays.array(c, "int8", list, x -> x.claim().jobId(), Long[]::new));
                ps.setArray(p++, SqlArrays.array(c, "text", list, x -> x.claim().leaseToken().toString(), String[]::new));
                ps.setArray(p++, SqlArrays.array(c, "int4", list, x -> x.claim().attempt(), Integer[]::new));
                ps.setArray(p++, SqlArrays.array(c, "text", list, QueueQueries::finalState, String[]::new));
                ps.setArray(p++, SqlArrays.array(c, "int8", list, QueueQueries::delayMs, Long[]::new));
                ps.setArray(p++, SqlArrays.array(c, "bool", list, x -> x instanceof Completion.Released, Boolean[]::new));
                p = AttemptColumns.bind(c, ps, p, list);
                ps.setArray(p++, SqlArrays.array(c, "bool", list, x -> payload(x).bodyTruncated(), Boolean[]::new));
                ps.setArray(p++, SqlArrays.array(c, "text", list, x -> payload(x).bodySha256(), String[]::new));
                ps.setArray(p++, SqlArrays.array(c, "text", list, x -> payload(x).title(), String[]::new));
                ps.setArray(p++, SqlArrays.array(c, "text", list, x -> payload(x).linksJson(), String[]::new));
                ps.setArray(p++, SqlArrays.array(c, "text", list, x -> payload(x).finalUrl(), String[]::new));
                ps.setArray(p++, SqlArrays.array(c, "bytea", list, QueueQueries::storedBody, byte[][]::new));
                ps.setArray(p++, SqlArrays.array(c, "text", list, x -> payload(x).etag(), String[]::new));
                ps.setArray(p++, SqlArrays.array(c, "int8", list, x -> AttemptColumns.micros(payload(x).lastModified()),
                        Long[]::new));
                ps.setString(p, workerId);
                List<Long> written = new ArrayList<>(list.size());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long jobId = rs.getLong(1);
                        if (!rs.wasNull()) {
                            written.add(jobId);
                        }
                        String key = rs.getString(2);
                        if (key != null) {
                            finished.add(key);
                        }
                        long batchId = rs.getLong(3);
                        if (!rs.wasNull()) {
                            unsure.add(batchId);
                        }
                    }
                }
                return written;
            }
        });
    }

    /** The job's final state, or null when it goes back to the queue. */
    private static String finalState(Completion c) {
        return switch (c) {
            case Completion.Completed x -> JobState.COMPLETED.code();
            case Completion.Failed x -> JobState.FAILED.code();
            case Completion.RetryAt x -> null;
            case Completion.Released x -> null;
        };
    }

    private static long delayMs(Completion c) {
        return switch (c) {
            case Completion.RetryAt r -> r.delayMs();
            case Completion.Released r -> r.delayMs();
            case Completion.Completed x -> 0;
            case Completion.Failed x -> 0;
        };
    }

    private static Payload payload(Completion c) {
        return c instanceof Completion.Attempted a ? a.payload() : Payload.NONE;
    }

    /** A body is stored with a final result only. */
    private static byte[] storedBody(Completion c) {
        return c instanceof Completion.Completed || c instanceof Completion.Failed ? payload(c).body() : null;
    }

    /**
     * Extends the leases of jobs this worker still holds; one statement per heartbeat. A lease that
     * expired but was not rescued is renewed too (after a database outage no owner could renew).
     *
     * @return the given claims whose lease is no longer this worker's (rescued, cancelled and
     *     ended, or written since): nothing was renewed for them
     */
    public List<Claim> extendLeases(Collection<Claim> claims, Duration lease) {
        if (claims.isEmpty()) {
            return List.of();
        }
        List<Claim> list = List.copyOf(claims);
        return jdbc.execute((Connection c) -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    WITH held AS (
                        SELECT q.job_id
                        FROM fetchq.queue q
                        JOIN unnest(?::bigint[], ?::uuid[]) AS h(job_id, lease_token)
                          ON q.job_id = h.job_id AND q.lease_token = h.lease_token
                        -- Running: the token says so (see the completion's fence), one lookup per claim.
                        ORDER BY q.job_id
                        FOR UPDATE OF q
                    )
                    UPDATE fetchq.queue q
                    SET lease_expires_at = now() + ? * interval '1 millisecond'
                    FROM held WHERE q.job_id = held.job_id
                    RETURNING q.job_id, q.lease_token""")) {
                ps.setArray(1, SqlArrays.array(c, "int8", list, Claim::jobId, Long[]::new));
                ps.setArray(2, SqlArrays.array(c, "text", list, x -> x.leaseToken().toString(), String[]::new));
                ps.setLong(3, lease.toMillis());
                // Job and token: a worker may hold an older claim of a job it claimed again, and only
                // the live one is renewed.
                Set<Map.Entry<Long, UUID>> renewed = new HashSet<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        renewed.add(Map.entry(rs.getLong(1), rs.getObject(2, UUID.class)));
                    }
                }
                return list.stream().filter(x -> !renewed.contains(Map.entry(x.jobId(), x.leaseToken()))).toList();
            }
        });
    }

    /** What one rescue pass did. */
    public record Rescued(long requeued, long ended) {
    }

    /** Rescues up to {@code limit} jobs whose lease expired; see {@link #RESCUE_EXPIRED}. */
    public Rescued rescueExpired(int limit) {
        return rescueExpired(limit, new ArrayList<>());
    }

    /**
     * As {@link #rescueExpired(int)}, adding to {@code finished} the {@link Finished} key of each job
     * it ended; in the same transaction, the completion events of the batches it finished.
     */
    public Rescued rescueExpired(int limit, Collection<String> finished) {
        return transactions.execute(status -> {
            List<Long> batches = new ArrayList<>();
            Rescued rescued = jdbc.queryForObject(RESCUE_EXPIRED, (rs, n) -> {
                Array keys = rs.getArray("finished");
                if (keys != null) {
                    finished.addAll(List.of((String[]) keys.getArray()));
                }
                Array ended = rs.getArray("batches");
                if (ended != null) {
                    batches.addAll(List.of((Long[]) ended.getArray()));
                }
                return new Rescued(rs.getLong("requeued"), rs.getLong("ended"));
            }, limit);
            Events.settleBatches(client, batches);
            return rescued;
        });
    }

    /** Binds a room map as two parameters from {@code p}: host names ({@code text[]}) and their room ({@code int4[]}), in step. */
    private static void bindRoom(Connection c, PreparedStatement ps, int p, Map<String, Integer> room)
            throws SQLException {
        String[] hosts = new String[room.size()];
        Integer[] free = new Integer[room.size()];
        int i = 0;
        for (Map.Entry<String, Integer> e : room.entrySet()) {
            hosts[i] = e.getKey();
            free[i++] = e.getValue();
        }
        ps.setArray(p, c.createArrayOf("text", hosts));
        ps.setArray(p + 1, c.createArrayOf("int4", free));
    }
}
