package io.fetchq.db;

import java.util.List;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/** Every SQL statement on batches: progress and cancellation. Batches are inserted by {@link JobQueries}. */
@Repository
public class BatchQueries {

    private static final String CANCEL_QUEUED = """
            WITH q AS (
                DELETE FROM fetchq.queue q
                USING fetchq.job j
                WHERE j.batch_id = :batch AND j.state = 'queued' AND q.job_id = j.id AND q.state <> 'running'
                RETURNING q.job_id, q.attempt
            ), """ + JobQueries.cancelDequeued("q");

    /** Flags every unfinished job of the batch, locking in job order (no deadlock with completions). */
    private static final String FLAG_ALL = """
            WITH unfinished AS (
                SELECT q.job_id
                FROM fetchq.queue q
                JOIN fetchq.job j ON j.id = q.job_id
                WHERE j.batch_id = :batch AND j.state = 'queued'
                ORDER BY q.job_id
                FOR UPDATE OF q
            )
            UPDATE fetchq.queue q
            SET cancel_requested = true
            FROM unfinished u
            WHERE q.job_id = u.job_id
            """;

    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    /** For reads of the API: bounded by {@code fetchq.db.read-timeout}. */
    private final JdbcClient reads;

    /** Reads without a time limit (tests, tools). */
    public BatchQueries(JdbcClient jdbc, TransactionTemplate tx) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.reads = jdbc;
    }

    @Autowired
    public BatchQueries(JdbcClient jdbc, JdbcTemplate template, TransactionTemplate tx, DbProperties db) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.reads = db.reads(template);
    }

    /** The batch's progress with its tenant (the public view leaves tenants out). */
    private static final String SELECT_BATCH = """
            SELECT p.batch_id AS id, p.total, p.queued, p.running, p.completed, p.failed, p.cancelled, p.done,
                   p.created_at, p.finished_at, b.tenant, p.schedule_id, p.nominal_time
            FROM fetchq.batch_progress p JOIN fetchq.batch b ON b.id = p.batch_id""";

    /** A batch of any tenant. */
    public Optional<BatchRow> getById(long id) {
        return getById(id, null);
    }

    /** A batch, if it belongs to {@code tenant}; any tenant's when {@code tenant} is null. */
    public Optional<BatchRow> getById(long id, String tenant) {
        return Tenants.bind(reads.sql(SELECT_BATCH + " WHERE p.batch_id = :id" + Tenants.condition("b", tenant))
                .param("id", id), tenant).query(BatchRow.class).optional();
    }

    /**
     * Whether the batch exists and belongs to {@code tenant} (any tenant's when null): one index
     * lookup, where {@link #getById} counts the batch's jobs.
     */
    public boolean exists(long id, String tenant) {
        return Tenants.bind(reads.sql("SELECT EXISTS (SELECT 1 FROM fetchq.batch b WHERE b.id = :id"
                + Tenants.condition("b", tenant) + ")").param("id", id), tenant).query(Boolean.class).single();
    }

    /** The newest batches of {@code tenant} (every tenant's when null) first, those with an id below {@code beforeId}. */
    public List<BatchRow> listRecent(long beforeId, int limit, String tenant) {
        return Tenants.bind(reads.sql(SELECT_BATCH + " WHERE p.batch_id < :before" + Tenants.condition("b", tenant)
                        + " ORDER BY p.batch_id DESC LIMIT :limit").param("before", beforeId).param("limit", limit), tenant)
                .query(BatchRow.class).list();
    }

    /** Whether no job of the batch is unfinished; true for an unknown batch too. Reads the batch's counts. */
    public boolean isDone(long id) {
        return reads.sql("SELECT COALESCE(sum(unfinished), 0) = 0 FROM fetchq.job_count WHERE batch_id = :id")
                .param("id", id)
                .query(Boolean.class)
                .single();
    }

    /**
     * Cancels every queued job of a batch now and flags its running ones; final jobs are left as
     * they are.
     *
     * @return the batch after the request, or empty when there is no such batch of {@code tenant}
     *     (any tenant's when it is null)
     */
    public Optional<BatchRow> cancel(long id, String tenant) {
        return tx.execute(status -> {
            if (!exists(id, tenant)) {
                return Optional.empty();
            }
            // Flag first (a worker re-queueing a job meanwhile ends it cancelled), then end the queued.
            jdbc.sql(FLAG_ALL).param("batch", id).update();
            jdbc.sql(CANCEL_QUEUED).param("batch", id).query().singleRow();
            Events.settleBatches(jdbc, List.of(id));
            return getById(id, tenant);
        });
    }
}
