package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The retention family of {@link RetentionQueries}: finished jobs older than the cutoff go with
 * their attempts and bodies, then batches left empty; unfinished and recent history stays.
 */
class RetentionSqlTest extends SqlTestBase {

    private static final Duration WEEK = Duration.ofDays(7);

    /** Claims the job (the only due one of its host), completes it with a body, and dates its end {@code ago}. */
    private static void finish(long jobId, Duration ago) {
        String host = (String) result(jobId).get("host");
        ClaimedJob claimed = queue.claimHosts(WORKER, Map.of(host, 1), LEASE).getFirst();
        assertThat(claimed.jobId()).isEqualTo(jobId);
        assertThat(queue.completeMany(List.of(completed(claimed)), WORKER)).containsExactly(jobId);
        sql.sql("UPDATE fetchq.job SET finished_at = now() - :ms * interval '1 millisecond' WHERE id = :id")
                .param("ms", ago.toMillis()).param("id", jobId).update();
    }

    private static boolean exists(long jobId) {
        return count("fetchq.job WHERE id = " + jobId) == 1;
    }

    private static Instant aWeekAgo() {
        return Instant.now().minus(WEEK);
    }

    @Test
    void finishedJobsOlderThanTheCutoffGoWithTheirAttemptsAndBodies() {
        long old = aJob("http://old.example/").submit();
        long recent = aJob("http://recent.example/").submit();
        long running = aJob("http://running.example/").submit();
        long queued = aJob("http://queued.example/").submit();
        finish(old, Duration.ofDays(10));
        finish(recent, Duration.ofDays(1));
        queue.claimHosts(WORKER, Map.of("running.example", 1), LEASE);
        sql.sql("UPDATE fetchq.job SET created_at = now() - interval '30 days'").update();

        assertThat(retention.deleteFinishedBefore(aWeekAgo(), 100)).isEqualTo(1);

        assertThat(exists(old)).isFalse();
        assertThat(attempts(old)).isEmpty();
        assertThat(jobs.bodyOf(old)).isEmpty();
        assertThat(exists(recent)).isTrue();
        assertThat(attempts(recent)).hasSize(1);
        assertThat(jobs.bodyOf(recent)).isPresent();
        assertThat(result(running).get("state")).isEqualTo("running");
        assertThat(result(queued).get("state")).isEqualTo("queued");
    }

    @Test
    void atMostTheLimitGoOldestFirst() {
        long tenDays = aJob("http://a.example/").submit();
        long nineDays = aJob("http://b.example/").submit();
        long eightDays = aJob("http://c.example/").submit();
        finish(tenDays, Duration.ofDays(10));
        finish(nineDays, Duration.ofDays(9));
        finish(eightDays, Duration.ofDays(8));

        assertThat(retention.deleteFinishedBefore(aWeekAgo(), 2)).isEqualTo(2);

        assertThat(List.of(exists(tenDays), exists(nineDays), exists(eightDays))).containsExactly(false, false, true);
    }

    @Test
    void oldBatchesGoOnceTheirJobsAreGone() {
        long emptied = jobs.insertBatch(List.of(aJob("http://a.example/").build())).id();
        long unfinished = jobs.insertBatch(List.of(aJob("http://b.example/").build())).id();
        long recent = jobs.insertBatch(List.of(aJob("http://c.example/").build())).id();
        finish(jobOf(emptied), Duration.ofDays(10));
        finish(jobOf(recent), Duration.ofDays(10));
        assertThat(retention.deleteFinishedBefore(aWeekAgo(), 100)).isEqualTo(2);
        sql.sql("UPDATE fetchq.batch SET created_at = now() - interval '10 days' WHERE id IN (:ids)")
                .param("ids", List.of(emptied, unfinished)).update();

        assertThat(retention.deleteEmptyBatchesBefore(aWeekAgo())).isEqualTo(1);

        assertThat(sql.sql("SELECT id FROM fetchq.batch ORDER BY id").query(Long.class).list())
                .containsExactly(unfinished, recent);
    }

    private static long jobOf(long batchId) {
        return sql.sql("SELECT id FROM fetchq.job WHERE batch_id = :id").param("id", batchId).query(Long.class).single();
    }
}
