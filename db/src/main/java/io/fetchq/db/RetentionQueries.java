package io.fetchq.db;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Deletes the history that has outlived its retention: finished jobs with their attempts and bodies,
 * then batches left empty (with their counts). Each call is one short statement, so retention never holds many locks or
 * a long transaction, and rows a claim or a retry holds are skipped, not waited for.
 */
@Repository
public class RetentionQueries {

    private final JdbcClient jdbc;

    public RetentionQueries(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Deletes up to {@code limit} jobs that finished before {@code cutoff}, oldest first, with their
     * attempt rows and (by cascade) stored bodies; returns how many jobs went.
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
                    RETURNING j.id
                )
                SELECT count(*) FROM jobs""")
                .param("cutoff", OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC)).param("limit", limit)
                .query(Integer.class).single();
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
