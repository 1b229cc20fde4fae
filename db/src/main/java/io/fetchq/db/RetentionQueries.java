package io.fetchq.db;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Deletes the history that has outlived its retention: finished jobs with their attempts and bodies,
 * the contents no body points at any more, then batches left empty (with their counts). Each call is one short statement, so retention never holds many locks or
 * a long transaction, and rows a claim or a retry holds are skipped, not waited for.
 */
@Repository
public class RetentionQueries {

    /** SQLSTATE of a lock not granted within {@code lock_timeout}. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;

    public RetentionQueries(JdbcClient jdbc, TransactionTemplate transactions) {
        this.jdbc = jdbc;
        this.transactions = transactions;
    }

    /**
     * Deletes up to {@code limit} jobs that finished before {@code cutoff}, oldest first, with their
     * attempt rows, (by cascade) their body rows, the state of URLs whose current version they held,
     * and the links read on them (a crawl's pages); returns how many jobs went. The contents their bodies pointed at are left to
     * {@link #deleteUnusedContents}.
     */
    public int deleteFinishedBefore(Instant cutoff, int limit) {
        return jdbc.sql("""
                WITH doomed AS (
                    SELECT id FROM fetchq.job
                    WHERE finished_at < :cutoff
                    ORDER BY finished_at
                    LIMIT :limit
                    FOR UPDATE SKIP LOCKED
                ), attempts AS (
                    DELETE FROM fetchq.attempt a USING doomed d WHERE a.job_id = d.id
                ), jobs AS (
                    DELETE FROM fetchq.job j USING doomed d WHERE j.id = d.id
                    RETURNING j.id, j.tenant, j.url, j.method, j.status_code
                ), states AS (
                    -- A URL whose latest version is held by a job that goes: nothing fetched it since
                    -- the cutoff, so its next GET is not conditional (and stores its body afresh).
                    DELETE FROM fetchq.url_state s USING jobs j
                    WHERE j.method = 'GET' AND j.status_code IN (200, 304)
                      AND s.tenant = j.tenant AND s.url_key = sha256(convert_to(j.url, 'UTF8')) AND s.job_id = j.id
                ), links AS (
                    -- A crawl page's links go with it (its crawl's frontier stays: the page was crawled).
                    DELETE FROM fetchq.crawl_link l USING jobs j WHERE l.from_job_id = j.id
                )
                SELECT count(*) FROM jobs""")
                .param("cutoff", OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC)).param("limit", limit)
                .query(Integer.class).single();
    }

    /**
     * Deletes up to {@code limit} stored contents that no body row points at any more, among those
     * whose last pointing row may have gone ({@code fetchq.body_release}); returns how many went.
     *
     * <p>A completion may point a new body row at a content it found stored: the content table is
     * locked against writers (every completion statement is one) for this short transaction, so
     * that the check sees every committed body row and no completion finds a content that is about
     * to go. Should the lock not come within {@code lockTimeout}, nothing is done (the next pass
     * tries again).
     */
    public Contents deleteUnusedContents(int limit, Duration lockTimeout) {
        return transactions.execute(status -> {
            jdbc.sql("SELECT set_config('lock_timeout', :ms, true)").param("ms", lockTimeout.toMillis() + "ms")
                    .query().singleValue();
            try {
                jdbc.sql("LOCK TABLE fetchq.body_content IN SHARE ROW EXCLUSIVE MODE").update();
            } catch (DataAccessException e) {
                if (!(e.getMostSpecificCause() instanceof SQLException sql && LOCK_NOT_AVAILABLE.equals(sql.getSQLState()))) {
                    throw e;
                }
                status.setRollbackOnly();
                return new Contents(0, 0, false);
            }
            return jdbc.sql("""
                    WITH picked AS (
                        DELETE FROM fetchq.body_release r
                        USING (SELECT tenant, sha256 FROM fetchq.body_release LIMIT :limit) p
                        WHERE r.tenant = p.tenant AND r.sha256 = p.sha256
                        RETURNING r.tenant, r.sha256
                    ), gone AS (
                        DELETE FROM fetchq.body_content c USING picked p
                        WHERE c.tenant = p.tenant AND c.sha256 = p.sha256
                          AND NOT EXISTS (SELECT 1 FROM fetchq.body b WHERE b.tenant = c.tenant AND b.sha256 = c.sha256)
                        RETURNING 1
                    )
                    SELECT (SELECT count(*) FROM picked) AS checked, (SELECT count(*) FROM gone) AS deleted""")
                    .param("limit", limit)
                    .query((rs, n) -> new Contents(rs.getInt("checked"), rs.getInt("deleted"), true)).single();
        });
    }

    /**
     * What one {@link #deleteUnusedContents} call did.
     *
     * @param checked contents looked at
     * @param deleted those deleted (no body row pointed at them)
     * @param locked false when the content table could not be locked in time (nothing was done)
     */
    public record Contents(int checked, int deleted, boolean locked) {
    }

    /** Deletes batches created before {@code cutoff} whose jobs are all gone; returns how many. */
    public int deleteEmptyBatchesBefore(Instant cutoff) {
        return jdbc.sql("""
                WITH gone AS (
                    DELETE FROM fetchq.batch b
                    WHERE b.created_at < :cutoff
                      AND NOT EXISTS (SELECT 1 FROM fetchq.job j WHERE j.batch_id = b.id)
                    RETURNING b.id
                ), counts AS (
                    DELETE FROM fetchq.job_count c USING gone g WHERE c.batch_id = g.id
                )
                SELECT count(*) FROM gone""")
                .param("cutoff", OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC))
                .query(Integer.class).single();
    }
}
