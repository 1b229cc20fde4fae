package io.fetchq.db;

import java.util.Collection;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The webhook outbox as the statements that cause events write it: an event row, and one delivery
 * row per endpoint of the tenant subscribed to its type, in the transaction of the change.
 *
 * <p>A batch's completion is decided under the batch's lock: a transaction that finished jobs of
 * a batch it cannot show to stay unfinished (see {@code COMPLETE_MANY}'s witness) locks the batch
 * row and only then, in a later statement (whose snapshot sees every transaction that finished
 * jobs of the batch and committed before it got the lock), reads the batch's counts. Of two
 * transactions finishing a batch's last jobs at once, the second to get the lock sees the
 * first's: exactly one finds the batch done, and the unique index on (batch, type) holds should a
 * retried transaction find it again.
 */
final class Events {

    /** CTE {@code subscribed}: the enabled endpoints, their tenant and types (a small table, read once). */
    static final String SUBSCRIBED = """
            subscribed AS (
                SELECT w.id, w.tenant, w.events FROM fetchq.webhook w WHERE w.disabled_at IS NULL
            )""";

    /**
     * CTEs writing the events of CTE {@code source} ({@code tenant, type, batch_id, job_id,
     * schedule_id}) that someone subscribes to, and their deliveries; CTE {@code subscribed} must
     * come first. Events of a batch's completion are written once ({@code ON CONFLICT}).
     */
    static String write(String source) {
        return """
                new_events AS (
                    INSERT INTO fetchq.event (tenant, type, batch_id, job_id, schedule_id)
                    SELECT x.tenant, x.type, x.batch_id, x.job_id, x.schedule_id
                    FROM %s x
                    WHERE EXISTS (SELECT 1 FROM subscribed s WHERE s.tenant = x.tenant AND x.type = ANY (s.events))
                    ON CONFLICT (batch_id, type) WHERE type IN ('batch.completed', 'schedule.run_completed') DO NOTHING
                    RETURNING id, tenant, type
                ), new_deliveries AS (
                    INSERT INTO fetchq.webhook_delivery (webhook_id, event_id)
                    SELECT s.id, e.id
                    FROM new_events e
                    JOIN subscribed s ON s.tenant = e.tenant AND e.type = ANY (s.events)
                    RETURNING 1
                )""".formatted(source);
    }

    /** The events of batches done, as read under their lock (see the class comment). */
    private static final String BATCHES_DONE = "WITH " + SUBSCRIBED + """
            , done AS (
                SELECT b.tenant, t.type, b.id AS batch_id, NULL::bigint AS job_id, b.schedule_id
                FROM fetchq.batch b
                CROSS JOIN LATERAL (VALUES ('batch.completed'), ('schedule.run_completed')) t(type)
                WHERE b.id IN (:ids)
                  AND (t.type = 'batch.completed' OR b.schedule_id IS NOT NULL)
                  AND (SELECT COALESCE(sum(c.unfinished), 0) FROM fetchq.job_count c WHERE c.batch_id = b.id) = 0
            ), """ + write("done") + """

            SELECT count(*) FROM new_deliveries""";

    private Events() {
    }

    /** Whether any enabled endpoint subscribes to a batch's completion (of a batch or of a schedule's run). */
    static boolean batchEventsWanted(JdbcClient jdbc) {
        return jdbc.sql("""
                SELECT EXISTS (SELECT 1 FROM fetchq.webhook
                               WHERE disabled_at IS NULL AND events && ARRAY['batch.completed', 'schedule.run_completed'])""")
                .query(Boolean.class).single();
    }

    /**
     * Writes the completion events of those of {@code batchIds} that are done, in the caller's
     * transaction, after the statement that finished their jobs: locks the batches (in id order),
     * then reads their counts.
     *
     * @return deliveries written
     */
    static long settleBatches(JdbcClient jdbc, Collection<Long> batchIds) {
        if (batchIds.isEmpty()) {
            return 0;
        }
        List<Long> ids = batchIds.stream().distinct().sorted().toList();
        jdbc.sql("SELECT id FROM fetchq.batch WHERE id IN (:ids) ORDER BY id FOR NO KEY UPDATE").param("ids", ids)
                .query(Long.class).list();
        return jdbc.sql(BATCHES_DONE).param("ids", ids).query(Long.class).single();
    }
}
