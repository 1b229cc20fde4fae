package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The intake family of {@link JobQueries}: jobs inserted one at a time or as a batch, idempotency
 * keys, and the requests that change a job from outside (cancel, retry).
 */
class IntakeSqlTest extends SqlTestBase {

    @Test
    void insertOneStoresTheJobAndQueuesIt() {
        InsertOutcome outcome = jobs.insertOne(aJob("http://example.com/post").post("{\"a\":1}").headers("{\"X-A\":\"b\"}")
                .priority(3).maxAttempts(4).metadata("{\"k\": \"v\"}").build());

        assertThat(outcome).isInstanceOf(InsertOutcome.Created.class);
        long id = outcome.jobId();
        assertThat(result(id)).containsEntry("url", "http://example.com/post").containsEntry("host", "example.com")
                .containsEntry("method", "POST").containsEntry("state", "queued").containsEntry("priority", 3)
                .containsEntry("attempts", 0).containsEntry("max_attempts", 4).containsEntry("batch_id", null);
        assertThat(String.valueOf(result(id).get("metadata"))).isEqualTo("{\"k\": \"v\"}");
        Map<String, Object> request = sql.sql("SELECT tenant, headers::text, body FROM fetchq.job WHERE id = :id")
                .param("id", id).query().singleRow();
        assertThat(request).containsEntry("tenant", Tenants.DEFAULT).containsEntry("headers", "{\"X-A\": \"b\"}");
        assertThat(new String((byte[]) request.get("body"), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
        assertThat(queueRow(id).orElseThrow()).containsEntry("state", "queued").containsEntry("host", "example.com")
                .containsEntry("priority", 3).containsEntry("attempt", 0).containsEntry("attempt_limit", 4);
    }

    @Test
    void aDelayedJobIsDueOnceItsDelayIsOver() {
        long id = aJob("http://example.com/later").delay(Duration.ofMinutes(1)).submit();

        assertThat(secondsUntilDue(id)).isBetween(50.0, 60.0);
    }

    @Test
    void aRunAtInThePastIsDueNowAndGetsNoAheadOfJobsAlreadyDue() {
        long waiting = aJob("http://example.com/waiting").submit();
        long backdated = aJob("http://example.com/backdated").runAt(Instant.parse("2001-01-01T00:00:00Z")).submit();

        assertThat(secondsUntilDue(backdated)).isBetween(-5.0, 0.0);
        assertThat(claimDue()).extracting(ClaimedJob::jobId).as("claim order").containsExactly(waiting, backdated);
    }

    @Test
    void insertBatchQueuesEveryJobUnderOneNewBatch() {
        BatchRow batch = jobs.insertBatch(List.of(aJob("http://a.example/").build(), aJob("http://b.example/").build(),
                aJob("http://c.example/").build()));

        assertThat(batch.total()).isEqualTo(3);
        assertThat(batch.queued()).isEqualTo(3);
        assertThat(count("fetchq.job_results WHERE state = 'queued' AND batch_id = " + batch.id())).isEqualTo(3);
        assertThat(count("fetchq.queue")).isEqualTo(3);
        assertThat(sql.sql("SELECT total, queued, done FROM fetchq.batch_progress WHERE batch_id = :id")
                .param("id", batch.id()).query().singleRow())
                .containsEntry("total", 3).containsEntry("queued", 3L).containsEntry("done", false);
    }

    @Test
    void aBatchWithATakenIdempotencyKeyInsertsNothing() {
        aJob("http://example.com/first").idempotencyKey("taken", "first").submit();

        assertThatThrownBy(() -> jobs.insertBatch(List.of(
                aJob("http://example.com/new").idempotencyKey("free", "new").build(),
                aJob("http://example.com/again").idempotencyKey("taken", "again").build())))
                .isInstanceOfSatisfying(IdempotencyKeyConflictException.class,
                        e -> assertThat(e.indexes()).containsExactly(1));

        assertThat(count("fetchq.job")).isEqualTo(1);
        assertThat(count("fetchq.batch")).isZero();
    }

    @Test
    void anIdempotencyKeyReusedByTheSameRequestAnswersTheExistingJob() {
        long id = aJob("http://example.com/once").idempotencyKey("k", "request").submit();

        InsertOutcome again = jobs.insertOne(aJob("http://example.com/once").idempotencyKey("k", "request").build());

        assertThat(again).isEqualTo(new InsertOutcome.Existing(id));
        assertThat(count("fetchq.job")).isEqualTo(1);
    }

    @Test
    void anIdempotencyKeyReusedByAnotherRequestIsAConflict() {
        long id = aJob("http://example.com/once").idempotencyKey("k", "request").submit();

        InsertOutcome other = jobs.insertOne(aJob("http://example.com/other").idempotencyKey("k", "other").build());

        assertThat(other).isEqualTo(new InsertOutcome.KeyConflict(id));
        assertThat(count("fetchq.job")).isEqualTo(1);
    }

    @Test
    void anotherTenantsIdempotencyKeyNeitherConflictsNorAnswers() {
        long id = aJob("http://example.com/once").idempotencyKey("k", "request").submit();

        InsertOutcome theirs = jobs.insertOne("acme", aJob("http://example.com/once").idempotencyKey("k", "request").build());

        assertThat(theirs).isInstanceOf(InsertOutcome.Created.class);
        assertThat(theirs.jobId()).isNotEqualTo(id);
    }

    @Test
    void cancelEndsAQueuedJobCancelledAndOutOfTheQueue() {
        long id = aJob("http://example.com/unwanted").submit();

        assertThat(jobs.cancel(id, null).orElseThrow().state()).isEqualTo(JobState.CANCELLED);

        assertThat(result(id)).containsEntry("state", "cancelled").containsEntry("error_kind", "cancelled")
                .containsEntry("error_message", "cancelled by request");
        assertThat(result(id).get("finished_at")).isNotNull();
        assertThat(queueRow(id)).isEmpty();
        assertThat(claimDue()).isEmpty();
    }

    @Test
    void retryQueuesAFailedJobAgainWithAFreshBudget() {
        long id = aJob("http://example.com/broken").maxAttempts(1).submit();
        ClaimedJob claimed = claimOne();
        queue.completeMany(List.of(new Completion.Failed(claimed.claim(), record(500, "http_status", "HTTP 500", 1, null),
                new Payload("text/plain", 4L, false, null, null, null, null, "oops".getBytes()))), WORKER);
        assertThat(jobs.bodyOf(id)).isPresent();

        assertThat(jobs.retry(id, null)).isEqualTo(RetryOutcome.RETRIED);

        assertThat(result(id)).containsEntry("state", "queued").containsEntry("attempts", 0)
                .containsEntry("status_code", null).containsEntry("error_kind", null).containsEntry("finished_at", null);
        assertThat(jobs.bodyOf(id)).as("the old result's body").isEmpty();
        assertThat(queueRow(id).orElseThrow()).containsEntry("attempt", 1).containsEntry("attempt_limit", 2);
        ClaimedJob again = claimOne();
        assertThat(again.attempt()).isEqualTo(2);
        assertThat(again.attemptInBudget()).isEqualTo(1);
        assertThat(attempts(id)).hasSize(1);
    }

    @Test
    void retryRefusesAJobThatIsNotFailedOrCancelled() {
        long id = aJob("http://example.com/fine").submit();

        assertThat(jobs.retry(id, null)).isEqualTo(RetryOutcome.NOT_RETRYABLE);
        assertThat(jobs.retry(id + 1000, null)).isEqualTo(RetryOutcome.NOT_FOUND);
        assertThat(queueRow(id).orElseThrow()).containsEntry("attempt", 0).containsEntry("attempt_limit", 3);
    }
}
