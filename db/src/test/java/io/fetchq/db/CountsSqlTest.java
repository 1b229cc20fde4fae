package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.Concurrently;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The counts every write keeps ({@code fetchq.job_count}, read by {@code fetchq.batch_progress} and
 * the stats) against the rows they count, after each kind of write: intake, claim, results,
 * rescue, cancel, retry, retention, and results written by several connections at once.
 */
class CountsSqlTest extends SqlTestBase {

    /** After every test: the counts equal a count of the rows, in all and per batch. */
    @AfterEach
    void countsMatchTheRows() {
        assertThat(countsByKey()).isEqualTo(rowsByKey());
    }

    private static Map<String, Object> countsByKey() {
        return sql.sql("""
                SELECT COALESCE(jsonb_object_agg(batch_id::text, jsonb_build_array(u, c, f, x)), '{}')::text
                FROM (SELECT batch_id, sum(unfinished) u, sum(completed) c, sum(failed) f, sum(cancelled) x
                      FROM fetchq.job_count GROUP BY batch_id
                      HAVING sum(unfinished) <> 0 OR sum(completed) <> 0 OR sum(failed) <> 0 OR sum(cancelled) <> 0) t""")
                .query(String.class).optional().map(CountsSqlTest::parse).orElse(Map.of());
    }

    private static Map<String, Object> rowsByKey() {
        return sql.sql("""
                SELECT COALESCE(jsonb_object_agg(k::text, jsonb_build_array(u, c, f, x)), '{}')::text
                FROM (SELECT k, count(*) FILTER (WHERE state = 'queued') u, count(*) FILTER (WHERE state = 'completed') c,
                             count(*) FILTER (WHERE state = 'failed') f, count(*) FILTER (WHERE state = 'cancelled') x
                      FROM fetchq.job CROSS JOIN LATERAL (VALUES (0::bigint), (batch_id)) v(k)
                      WHERE k IS NOT NULL GROUP BY k) t""")
                .query(String.class).optional().map(CountsSqlTest::parse).orElse(Map.of());
    }

    private static Map<String, Object> parse(String json) {
        return new org.springframework.boot.json.BasicJsonParser().parseMap(json);
    }

    private static Map<String, Object> progress(long batchId) {
        return sql.sql("SELECT * FROM fetchq.batch_progress WHERE batch_id = :id").param("id", batchId).query().singleRow();
    }

    @Test
    void progressFollowsEachKindOfWrite() {
        BatchRow batch = jobs.insertBatch(List.of(aJob("http://a.example/1").maxAttempts(1).build(),
                aJob("http://b.example/2").build(), aJob("http://c.example/3").build()));
        aJob("http://d.example/alone").submit();
        assertThat(progress(batch.id())).containsEntry("queued", 3L).containsEntry("running", 0L)
                .containsEntry("done", false);
        countsMatchTheRows();

        List<ClaimedJob> claimed = queue.claimDue(WORKER, 2, 10, 8, Map.of(), LEASE);
        ClaimedJob first = claimed.stream().filter(j -> j.url().contains("/1")).findFirst().orElseThrow();
        ClaimedJob second = claimed.stream().filter(j -> j.url().contains("/2")).findFirst().orElseThrow();
        assertThat(progress(batch.id())).containsEntry("queued", 1L).containsEntry("running", 2L);

        queue.completeMany(List.of(completed(second)), WORKER);
        assertThat(progress(batch.id())).containsEntry("completed", 1L).containsEntry("running", 1L);
        countsMatchTheRows();

        // The first job's worker vanished on its last attempt: rescued as failed.
        expireLease(first.jobId());
        assertThat(queue.rescueExpired(10).ended()).isEqualTo(1);
        assertThat(progress(batch.id())).containsEntry("failed", 1L).containsEntry("running", 0L)
                .containsEntry("queued", 1L);
        countsMatchTheRows();

        BatchQueries batches = new BatchQueries(sql, tx);
        batches.cancel(batch.id(), null);
        Map<String, Object> cancelled = progress(batch.id());
        assertThat(cancelled).containsEntry("cancelled", 1L).containsEntry("done", true);
        assertThat(cancelled.get("finished_at")).isNotNull();
        assertThat(batches.isDone(batch.id())).isTrue();
        countsMatchTheRows();

        assertThat(jobs.retry(first.jobId(), null)).isEqualTo(RetryOutcome.RETRIED);
        assertThat(progress(batch.id())).containsEntry("failed", 0L).containsEntry("queued", 1L)
                .containsEntry("done", false);
        assertThat(batches.isDone(batch.id())).isFalse();
    }

    @Test
    void retentionTakesTheCountsOfWhatItDeletesAndOfTheBatchesItEmpties() {
        BatchRow batch = jobs.insertBatch(List.of(aJob("http://a.example/old").build()));
        ClaimedJob job = claimOne();
        queue.completeMany(List.of(completed(job)), WORKER);
        sql.sql("UPDATE fetchq.job SET finished_at = now() - interval '40 days'").update();
        sql.sql("UPDATE fetchq.batch SET created_at = now() - interval '40 days'").update();
        countsMatchTheRows();

        RetentionQueries retention = new RetentionQueries(sql, tx);
        assertThat(retention.deleteFinishedBefore(Instant.now().minusSeconds(86_400), 100)).isEqualTo(1);
        countsMatchTheRows();
        assertThat(retention.deleteEmptyBatchesBefore(Instant.now().minusSeconds(86_400))).isEqualTo(1);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job_count WHERE batch_id = :id").param("id", batch.id())
                .query(Long.class).single()).isZero();
    }

    @Test
    void resultsWrittenByManyConnectionsAtOnceAreEachCountedOnce() throws Exception {
        List<NewJob> many = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            many.add(aJob("http://h" + (i % 50) + ".example/" + i).build());
        }
        BatchRow batch = jobs.insertBatch(many);
        Concurrently.run(6, w -> () -> {
            List<ClaimedJob> claimed;
            while (!(claimed = queue.claimDue("w" + w, 50, 200, 50, Map.of(), LEASE)).isEmpty()) {
                queue.completeMany(claimed.stream().map(j -> (Completion) completed(j)).toList(), "w" + w);
            }
            return null;
        });
        assertThat(progress(batch.id())).containsEntry("completed", 2000L).containsEntry("queued", 0L)
                .containsEntry("done", true);
    }
}
