package io.fetchq.db;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Every SQL statement on jobs outside the worker's hot path: intake, reads, cancel and retry.
 *
 * <p>Intake writes a job row and its queue row in one statement, many jobs at a time: the rows
 * travel as one array per column and are expanded by {@code unnest}, so a batch of 100,000 jobs
 * takes a few round trips rather than 100,000.
 */
@Repository
public class JobQueries {

    /** Jobs per insert statement: large enough to amortise the round trip, small enough to keep arrays cheap. */
    static final int INSERT_CHUNK = 5_000;

    /** Channel on which workers listen for newly due jobs. */
    public static final String NOTIFY_CHANNEL = "fetchq_jobs";

    private static final String INSERT_MANY = """
            WITH j AS (
                INSERT INTO fetchq.job (tenant, batch_id, url, host, method, headers, body, priority, run_at,
                                        max_attempts, timeout_ms, max_body_bytes, store_body,
                                        follow_redirects, extract, idempotency_key, request_hash, metadata,
                                        conditional, robots)
                -- A run_at in the past is due now: in the order of submission, not ahead of every due job.
                SELECT ?, ?, u.url, u.host, u.method, u.headers::jsonb, u.body, u.priority,
                       GREATEST(now(), COALESCE(u.run_at::timestamptz, now() + u.delay_ms * interval '1 millisecond')),
                       u.max_attempts, u.timeout_ms, u.max_body_bytes, u.store_body, u.follow_redirects,
                       string_to_array(u.extract, ','), u.idempotency_key, u.request_hash, u.metadata::jsonb,
                       u.conditional, u.robots
                FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bytea[], ?::int[], ?::text[],
                            ?::bigint[], ?::smallint[], ?::int[], ?::int[], ?::boolean[], ?::boolean[],
                            ?::text[], ?::text[], ?::bytea[], ?::text[], ?::boolean[], ?::boolean[])
                     WITH ORDINALITY AS u(url, host, method, headers, body, priority, run_at, delay_ms,
                                          max_attempts, timeout_ms, max_body_bytes, store_body,
                                          follow_redirects, extract, idempotency_key, request_hash,
                                          metadata, conditional, robots, ord)
                ORDER BY u.ord
                ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING id, batch_id, priority, run_at, host, max_attempts
            ), q AS (
                INSERT INTO fetchq.queue (job_id, batch_id, priority, run_at, host, attempt_limit, state)
                SELECT id, batch_id, priority, run_at, host, max_attempts,
                       CASE WHEN run_at > now() THEN 'scheduled' ELSE 'queued' END FROM j
            )
            SELECT id FROM j
            """;

    private static final String CANCEL_QUEUED = """
            WITH q AS (
                DELETE FROM fetchq.queue
                WHERE job_id = :id AND state <> 'running'
                RETURNING job_id, attempt
            ), """ + cancelDequeued("q");

    /**
     * The end of a statement that cancels queued jobs: CTE {@code dequeued} holds the queue rows it
     * took ({@code job_id, attempt}); their jobs end {@code cancelled}, counted.
     */
    static String cancelDequeued(String dequeued) {
        return """
                cancelled AS (
                    UPDATE fetchq.job j
                    SET state = 'cancelled', attempts = d.attempt, finished_at = now(),
                        error_kind = 'cancelled', error_message = 'cancelled by request'
                    FROM %s d
                    WHERE j.id = d.job_id
                    RETURNING j.batch_id, j.state, j.finished_at, 'queued' AS from_state
                ), %s
                SELECT %s""".formatted(dequeued, Counts.cte("cancelled"), Counts.RUN);
    }

    private static final String RETRY = """
            WITH was AS (
                SELECT id, state FROM fetchq.job WHERE id = :id AND state IN ('failed', 'cancelled') FOR UPDATE
            ), j AS (
                UPDATE fetchq.job j
                SET state = 'queued', budget_base = attempts, run_at = now(), started_at = NULL,
                    finished_at = NULL, status_code = NULL, content_type = NULL, body_bytes = NULL,
                    body_truncated = NULL, body_sha256 = NULL, title = NULL, links = NULL,
                    final_url = NULL, error_kind = NULL, error_message = NULL, total_ms = NULL, etag = NULL,
                    last_modified = NULL, not_modified = NULL, changed = NULL
                FROM was
                WHERE j.id = was.id
                RETURNING j.id, j.batch_id, j.priority, j.run_at, j.host, j.attempts, j.max_attempts,
                          j.state, j.finished_at, was.state AS from_state
            ), b AS (
                DELETE FROM fetchq.body WHERE job_id IN (SELECT id FROM j)
            ), q AS (
                INSERT INTO fetchq.queue (job_id, batch_id, priority, run_at, host, attempt, attempt_limit)
                SELECT id, batch_id, priority, run_at, host, attempts, attempts + max_attempts FROM j
            ), """ + Counts.cte("j") + """

            SELECT count(*), """ + Counts.RUN + " FROM j";

    /**
     * A job as the API reads it: the public view's row, with the job's tenant and request headers
     * (which the view leaves out: they may hold credentials).
     */
    private static final String SELECT_JOB = """
            SELECT r.*, j.tenant, j.headers::text AS headers
            FROM fetchq.job_results r JOIN fetchq.job j ON j.id = r.job_id""";

    private static final Logger log = LoggerFactory.getLogger(JobQueries.class);

    private final JdbcClient jdbc;
    private final JdbcTemplate template;
    private final TransactionTemplate tx;
    /** Batches of at least this many jobs analyze the queue once committed; 0: never. */
    private final int analyzeAfterJobs;
    /** Analyses asked for and not yet begun, plus one while one runs. */
    private final AtomicInteger analyzeRequests = new AtomicInteger();
    private final Notifier workersNotifier;
    /** For reads of the API: bounded by {@code fetchq.db.read-timeout}. */
    private final JdbcClient reads;

    /** With "new jobs" notifications sent at once after each commit, and the default read timeout (tests, tools). */
    public JobQueries(JdbcClient jdbc, JdbcTemplate template, TransactionTemplate tx) {
        this(jdbc, template, tx, new Notifier(template, NOTIFY_CHANNEL, Duration.ZERO), DbProperties.DEFAULTS);
    }

    /** With "new jobs" notifications sent at once after each commit, and the default read timeout. */
    public JobQueries(JdbcClient jdbc, JdbcTemplate template, TransactionTemplate tx, Notifier workersNotifier) {
        this(jdbc, template, tx, workersNotifier, DbProperties.DEFAULTS);
    }

    /**
     * @param workersNotifier tells workers of new jobs, after commit
     * @param db the read timeout
     */
    @Autowired
    public JobQueries(JdbcClient jdbc, JdbcTemplate template, TransactionTemplate tx,
            @Qualifier(DbConfiguration.JOBS_NOTIFIER) Notifier workersNotifier, DbProperties db) {
        this.jdbc = jdbc;
        this.template = template;
        this.tx = tx;
        this.workersNotifier = workersNotifier;
        this.reads = db.reads(template);
        this.analyzeAfterJobs = db.analyzeAfterJobs();
    }

    /** Inserts one job of the default tenant; see {@link #insertOne(String, NewJob)}. */
    public InsertOutcome insertOne(NewJob job) {
        return insertOne(Tenants.DEFAULT, job);
    }

    /**
     * Inserts one job of {@code tenant} outside any batch. With an idempotency key already held by
     * another of the tenant's jobs, inserts nothing and says whether that job came from the same
     * request.
     */
    public InsertOutcome insertOne(String tenant, NewJob job) {
        InsertOutcome outcome = tx.execute(status -> {
            List<Long> ids = insertChunk(tenant, null, List.of(job));
            if (!ids.isEmpty()) {
                return new InsertOutcome.Created(ids.getFirst());
            }
            // ON CONFLICT waited for the holder of the key to commit, so it is visible now.
            return jdbc.sql("SELECT id, request_hash FROM fetchq.job WHERE tenant = :tenant AND idempotency_key = :key")
                    .param("tenant", tenant)
                    .param("key", job.idempotencyKey())
                    .query((rs, n) -> Arrays.equals(rs.getBytes("request_hash"), job.requestHash())
                            ? (InsertOutcome) new InsertOutcome.Existing(rs.getLong("id"))
                            : new InsertOutcome.KeyConflict(rs.getLong("id")))
                    .optional()
                    .orElseThrow(() -> new IllegalStateException(
                            "idempotency key conflicted but no job holds it: " + job.idempotencyKey()));
        });
        if (outcome instanceof InsertOutcome.Created) {
            workersNotifier.announce();
        }
        return outcome;
    }

    /** Inserts a batch of the default tenant; see {@link #insertBatch(String, List)}. */
    public BatchRow insertBatch(List<NewJob> jobs) {
        return insertBatch(Tenants.DEFAULT, jobs);
    }

    /**
     * Inserts a batch of {@code tenant} and all its jobs in one transaction: all or nothing.
     *
     * @return the new batch as committed: every job queued
     * @throws IdempotencyKeyConflictException when a job's idempotency key is already taken by one
     *     of the tenant's jobs
     */
    public BatchRow insertBatch(String tenant, List<NewJob> jobs) {
        if (jobs.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one job");
        }
        BatchRow inserted = tx.execute(status -> {
            rejectTakenKeys(tenant, jobs);
            BatchRow batch = jdbc.sql("INSERT INTO fetchq.batch (tenant, total) VALUES (:tenant, :total) RETURNING id, created_at")
                    .param("tenant", tenant)
                    .param("total", jobs.size())
                    .query((rs, n) -> new BatchRow(rs.getLong("id"), jobs.size(), jobs.size(), 0, 0, 0, 0, false,
                            rs.getObject("created_at", OffsetDateTime.class), null, tenant, null, null))
                    .single();
            long batchId = batch.id();
            for (int from = 0; from < jobs.size(); from += INSERT_CHUNK) {
                List<NewJob> chunk = jobs.subList(from, Math.min(jobs.size(), from + INSERT_CHUNK));
                if (insertChunk(tenant, batchId, chunk).size() != chunk.size()) {
                    // A concurrent request took one of our keys after rejectTakenKeys looked.
                    throw new IdempotencyKeyConflictException(List.of());
                }
            }
            return batch;
        });
        workersNotifier.announce();
        if (analyzeAfterJobs > 0 && jobs.size() >= analyzeAfterJobs) {
            analyzeQueueSoon();
        }
        return inserted;
    }

    /**
     * Takes the queue's statistics again in the background: a large batch landing on a queue whose
     * statistics say it is small (or empty) would otherwise have claims planned for a few rows, and
     * reading every due row, until autovacuum analyzes the table. One at a time; a request made
     * while one runs makes it run once more.
     */
    private void analyzeQueueSoon() {
        if (analyzeRequests.getAndIncrement() > 0) {
            return;
        }
        Thread.ofVirtual().name("fetchq-analyze-queue").start(() -> {
            do {
                analyzeRequests.set(1);
                try {
                    template.execute("ANALYZE fetchq.queue");
                } catch (RuntimeException e) {
                    log.warn("ANALYZE fetchq.queue after a large batch failed: {}", e.toString());
                }
            } while (analyzeRequests.getAndDecrement() > 1);
        });
    }

    private void rejectTakenKeys(String tenant, List<NewJob> jobs) {
        Map<String, Integer> indexByKey = new HashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            if (jobs.get(i).idempotencyKey() != null) {
                indexByKey.put(jobs.get(i).idempotencyKey(), i);
            }
        }
        if (indexByKey.isEmpty()) {
            return;
        }
        List<String> taken = template.execute((Connection c) -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT idempotency_key FROM fetchq.job WHERE tenant = ? AND idempotency_key = ANY (?)")) {
                ps.setString(1, tenant);
                ps.setArray(2, c.createArrayOf("text", indexByKey.keySet().toArray(String[]::new)));
                List<String> keys = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        keys.add(rs.getString(1));
                    }
                }
                return keys;
            }
        });
        if (!taken.isEmpty()) {
            throw new IdempotencyKeyConflictException(taken.stream().map(indexByKey::get).sorted().toList());
        }
    }

    private List<Long> insertChunk(String tenant, Long batchId, List<NewJob> jobs) {
        return template.execute((Connection c) -> {
            int n = jobs.size();
            String[] url = new String[n], host = new String[n], method = new String[n], headers = new String[n],
                    runAt = new String[n], extract = new String[n], key = new String[n], metadata = new String[n];
            byte[][] body = new byte[n][], hash = new byte[n][];
            Integer[] priority = new Integer[n], timeout = new Integer[n], maxBody = new Integer[n];
            Long[] delay = new Long[n];
            Short[] maxAttempts = new Short[n];
            Boolean[] storeBody = new Boolean[n], follow = new Boolean[n], conditional = new Boolean[n],
                    robots = new Boolean[n];
            for (int i = 0; i < n; i++) {
                NewJob j = jobs.get(i);
                url[i] = j.url();
                host[i] = j.host();
                method[i] = j.method();
                headers[i] = j.headersJson();
                body[i] = j.body();
                priority[i] = j.priority();
                runAt[i] = j.runAt() == null ? null : j.runAt().toString();
                delay[i] = j.delayMs();
                maxAttempts[i] = (short) j.maxAttempts();
                timeout[i] = j.timeoutMs();
                maxBody[i] = j.maxBodyBytes();
                storeBody[i] = j.storeBody();
                follow[i] = j.followRedirects();
                extract[i] = String.join(",", j.extract());
                key[i] = j.idempotencyKey();
                hash[i] = j.requestHash();
                metadata[i] = j.metadataJson();
                conditional[i] = j.conditional();
                robots[i] = j.robots();
            }
            try (PreparedStatement ps = c.prepareStatement(INSERT_MANY)) {
                int p = 1;
                ps.setString(p++, tenant);
                if (batchId == null) {
                    ps.setNull(p++, java.sql.Types.BIGINT);
                } else {
                    ps.setLong(p++, batchId);
                }
                Array[] arrays = {
                    c.createArrayOf("text", url), c.createArrayOf("text", host), c.createArrayOf("text", method),
                    c.createArrayOf("text", headers), c.createArrayOf("bytea", body),
                    c.createArrayOf("int4", priority), c.createArrayOf("text", runAt),
                    c.createArrayOf("int8", delay), c.createArrayOf("int2", maxAttempts),
                    c.createArrayOf("int4", timeout), c.createArrayOf("int4", maxBody),
                    c.createArrayOf("bool", storeBody), c.createArrayOf("bool", follow),
                    c.createArrayOf("text", extract), c.createArrayOf("text", key),
                    c.createArrayOf("bytea", hash), c.createArrayOf("text", metadata),
                    c.createArrayOf("bool", conditional), c.createArrayOf("bool", robots)
                };
                for (Array array : arrays) {
                    ps.setArray(p++, array);
                }
                List<Long> ids = new ArrayList<>(n);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
                return ids;
            }
        });
    }

    /** A job of any tenant. */
    public Optional<JobRow> getById(long id) {
        return getById(id, null);
    }

    /** A job, if it belongs to {@code tenant}; any tenant's when {@code tenant} is null. */
    public Optional<JobRow> getById(long id, String tenant) {
        return Tenants.bind(reads.sql(SELECT_JOB + " WHERE r.job_id = :id" + Tenants.condition("j", tenant))
                .param("id", id), tenant).query(JobRow.ROWS).optional();
    }

    /** Whether the job is final; also true when there is no such job (nothing to wait for). */
    public boolean isFinal(long id) {
        return reads.sql("SELECT COALESCE((SELECT state <> 'queued' FROM fetchq.job WHERE id = :id), true)")
                .param("id", id)
                .query(Boolean.class)
                .single();
    }

    /**
     * One page of jobs in id order, after {@code filter.afterId()}. Each filter pages through an index
     * of its own: a batch's jobs ({@code job_batch}), a tenant's or a host's ({@code fetchq.job_lookup}),
     * finished jobs by state ({@code job_finished_state}); queued and running jobs are read from the
     * queue, which holds only unfinished ones.
     */
    public List<JobRow> list(JobFilter filter) {
        Map<String, Object> params = new HashMap<>();
        String state = filter.state();
        boolean unfinished = JobState.QUEUED.code().equals(state) || JobState.RUNNING.code().equals(state);
        // A host's jobs are found by the host (hosts are many, each a small share of the jobs); a
        // tenant's by the tenant, unless a state narrows them more (tenants are few).
        boolean byLookup = !unfinished && filter.batchId() == null
                && (filter.host() != null || (filter.tenant() != null && state == null));
        StringBuilder sql = new StringBuilder(SELECT_JOB);
        if (unfinished) {
            // A scheduled row (not due yet) is a queued job.
            sql.append(" JOIN fetchq.queue uq ON uq.job_id = j.id WHERE (uq.state = 'running') = :running"
                    + " AND uq.job_id > :after");
            params.put("running", JobState.RUNNING.code().equals(state));
        } else {
            if (byLookup) {
                sql.append(" JOIN fetchq.job_lookup k ON k.job_id = j.id AND k.tenant = j.tenant")
                        .append(" WHERE k.job_id > :after AND j.id > :after");
            } else {
                sql.append(" WHERE j.id > :after");
            }
            if (state != null) {
                sql.append(" AND j.state = :state AND j.finished_at IS NOT NULL");
                params.put("state", state);
            }
        }
        params.put("after", filter.afterId());
        params.put("limit", filter.limit());
        String alias = byLookup ? "k" : "j";
        if (filter.tenant() != null) {
            sql.append(" AND ").append(alias).append(".tenant = :tenant");
            params.put("tenant", filter.tenant());
        }
        if (filter.batchId() != null) {
            sql.append(" AND j.batch_id = :batch");
            params.put("batch", filter.batchId());
        }
        if (filter.host() != null) {
            sql.append(" AND ").append(alias).append(".host = :host");
            params.put("host", filter.host());
        }
        sql.append(byLookup ? " ORDER BY k.job_id LIMIT :limit" : " ORDER BY j.id LIMIT :limit");
        return reads.sql(sql.toString()).params(params).query(JobRow.ROWS).list();
    }

    /**
     * Cancels a job: a queued one becomes {@code cancelled} now, a running one is flagged so that
     * its worker cancels it at its next step; a final one is left as it is.
     *
     * @return the job after the request, or empty when there is no such job of {@code tenant}
     *     (any tenant's when it is null)
     */
    public Optional<JobRow> cancel(long id, String tenant) {
        return tx.execute(status -> {
            if (tenant != null && getById(id, tenant).isEmpty()) {
                return Optional.empty();
            }
            // Flag first, whatever the state: a worker re-queueing the job meanwhile sees the flag
            // and ends it cancelled; then end it now if it is queued.
            jdbc.sql("UPDATE fetchq.queue SET cancel_requested = true WHERE job_id = :id")
                    .param("id", id)
                    .update();
            jdbc.sql(CANCEL_QUEUED).param("id", id).query().singleRow();
            // The job may have been its batch's last unfinished one.
            jdbc.sql("SELECT batch_id FROM fetchq.job WHERE id = :id AND batch_id IS NOT NULL").param("id", id)
                    .query(Long.class).optional().ifPresent(batch -> Events.settleBatches(jdbc, List.of(batch)));
            return getById(id, tenant);
        });
    }

    /**
     * Queues a failed or cancelled job of {@code tenant} (any tenant's when it is null) again with a
     * fresh attempt budget.
     */
    public RetryOutcome retry(long id, String tenant) {
        RetryOutcome outcome = tx.execute(status -> {
            if (tenant != null && getById(id, tenant).isEmpty()) {
                return RetryOutcome.NOT_FOUND;
            }
            long retried = jdbc.sql(RETRY).param("id", id).query((rs, n) -> rs.getLong(1)).single();
            if (retried == 1) {
                return RetryOutcome.RETRIED;
            }
            return getById(id).isPresent() ? RetryOutcome.NOT_RETRYABLE : RetryOutcome.NOT_FOUND;
        });
        if (outcome == RetryOutcome.RETRIED) {
            workersNotifier.announce();
        }
        return outcome;
    }

    /** Jobs a results export reads per page: each page is one short query on a connection of its own. */
    static final int EXPORT_PAGE = 1000;

    /**
     * Hands every job of a batch to {@code each} in id order, only those in {@code state} when it is
     * not null. Reads page by page, keyed by job id ({@value #EXPORT_PAGE} jobs a page, index
     * {@code job_batch}), and hands a page over only once its connection is back in the pool: a client
     * that reads slowly holds no connection and no snapshot, however long it takes, and memory stays
     * flat however large the batch. Each page is read as it is then: a job that changes while the
     * export runs shows its state at the time its page was read.
     */
    public void forEachResult(long batchId, String state, Consumer<JobRow> each) {
        long after = 0;
        while (true) {
            JdbcClient.StatementSpec query = reads.sql("SELECT *, NULL AS tenant, NULL AS headers FROM fetchq.job_results"
                            + " WHERE batch_id = :batch AND job_id > :after" + (state == null ? "" : " AND state = :state")
                            + " ORDER BY job_id LIMIT :limit")
                    .param("batch", batchId).param("after", after).param("limit", EXPORT_PAGE);
            if (state != null) {
                query = query.param("state", state);
            }
            List<JobRow> page = query.query(JobRow.ROWS).list();
            page.forEach(each);
            if (page.size() < EXPORT_PAGE) {
                return;
            }
            after = page.getLast().jobId();
        }
    }

    public List<AttemptRow> attemptsOf(long jobId) {
        return reads.sql("SELECT * FROM fetchq.attempts WHERE job_id = :id ORDER BY attempt")
                .param("id", jobId)
                .query(AttemptRow.ROWS)
                .list();
    }

    public Optional<StoredBody> bodyOf(long jobId) {
        return reads.sql("SELECT content_type, body FROM fetchq.job_bodies WHERE job_id = :id")
                .param("id", jobId)
                .query((rs, n) -> new StoredBody(rs.getString("content_type"), rs.getBytes("body")))
                .optional();
    }
}
