package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Jobs not due yet are {@code scheduled}: out of the claim indexes until a worker promotes them once
 * due, and {@code queued} to everyone who reads them.
 */
class ScheduledSqlTest extends SqlTestBase {

    private static String queueState(long id) {
        return sql.sql("SELECT state FROM fetchq.queue WHERE job_id = :id").param("id", id).query(String.class).single();
    }

    private static long inClaimIndex() {
        return sql.sql("SELECT count(*) FROM fetchq.queue WHERE state = 'queued'").query(Long.class).single();
    }

    @Test
    void aJobForLaterIsScheduledQueuedToReadersAndClaimedOnlyOncePromoted() {
        long later = aJob("https://later.example/").delay(Duration.ofHours(1)).submit();
        long backdated = aJob("https://now.example/").runAt(Instant.now().minusSeconds(60)).submit();

        assertThat(queueState(later)).isEqualTo("scheduled");
        assertThat(queueState(backdated)).isEqualTo("queued");
        assertThat(inClaimIndex()).as("only the due job is in the claim order").isEqualTo(1);
        assertThat(sql.sql("SELECT state FROM fetchq.job_results WHERE job_id = :id").param("id", later)
                .query(String.class).single()).as("public state").isEqualTo("queued");
        assertThat(sql.sql("SELECT next_attempt_at IS NOT NULL FROM fetchq.job_results WHERE job_id = :id")
                .param("id", later).query(Boolean.class).single()).isTrue();
        assertThat(jobs.list(new JobFilter(null, "queued", null, null, 0, 10))).extracting(JobRow::jobId)
                .contains(later, backdated);

        assertThat(queue.promoteDue(100)).as("nothing due yet").isZero();
        sql.sql("UPDATE fetchq.queue SET run_at = now() - interval '1 second' WHERE job_id = :id").param("id", later).update();
        assertThat(claimDue()).extracting(ClaimedJob::jobId).as("not promoted yet").containsExactly(backdated);
        assertThat(queue.promoteDue(100)).isEqualTo(1);
        assertThat(claimDue()).extracting(ClaimedJob::jobId).containsExactly(later);
    }

    @Test
    void aRetryForLaterIsScheduledAndAReleaseForNowIsQueued() {
        long retried = aJob("https://a.example/").submit();
        long released = aJob("https://b.example/").submit();
        List<ClaimedJob> claimed = claimDue();
        ClaimedJob a = claimed.stream().filter(c -> c.jobId() == retried).findFirst().orElseThrow();
        ClaimedJob b = claimed.stream().filter(c -> c.jobId() == released).findFirst().orElseThrow();

        queue.completeMany(List.of(
                new Completion.RetryAt(a.claim(), record(503, "http_status", "HTTP 503", 1, null), Payload.NONE, 60_000),
                new Completion.Released(b.claim(), 0)), WORKER);

        assertThat(queueState(retried)).isEqualTo("scheduled");
        assertThat(queueState(released)).isEqualTo("queued");
    }

    @Test
    void scheduledJobsAreCancelledWithTheirBatchAndOnTheirOwn() {
        long alone = aJob("https://a.example/").delay(Duration.ofHours(1)).submit();
        assertThat(jobs.cancel(alone, null)).map(JobRow::state).contains(JobState.CANCELLED);

        NewJob later = aJob("https://b.example/").delay(Duration.ofHours(1)).build();
        long batch = jobs.insertBatch(List.of(later, later)).id();
        assertThat(new BatchQueries(sql, tx).cancel(batch, null))
                .map(BatchRow::cancelled).contains(2L);
        assertThat(count("fetchq.queue")).isZero();
    }

    @Test
    void theLagCountsScheduledJobsThatCameDueBeforeAnyWorkerPromotedThem() {
        long id = aJob("https://late.example/").delay(Duration.ofHours(1)).submit();
        sql.sql("UPDATE fetchq.queue SET run_at = now() - interval '90 seconds' WHERE job_id = :id").param("id", id).update();
        assertThat(new StatsQueries(sql).read().oldestDueMs()).isBetween(89_000L, 120_000L);
        assertThat(queue.walkHosts("", 10).hosts()).as("not in the claim order until promoted").isEmpty();
    }
}
