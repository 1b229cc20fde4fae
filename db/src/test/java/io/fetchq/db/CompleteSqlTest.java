package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The completion family of {@link QueueQueries}: {@code completeMany} and {@code nextAttempt} write
 * how a claim ended (result, attempt row, body, requeue or release), and only while the claim
 * still holds.
 */
class CompleteSqlTest extends SqlTestBase {

    @Test
    void aCompletedClaimWritesTheResultOneAttemptAndTheBody() {
        long id = aJob("http://example.com/page").submit();
        ClaimedJob claimed = claimOne();
        Instant started = Instant.parse("2025-01-02T03:04:05.123456Z");
        AttemptRecord attempt = new AttemptRecord(started, started.plusMillis(10), 200, null, null, 1, 2, 3, 4, 10,
                "192.0.2.1", "[]");
        Payload payload = new Payload("text/html", 5L, false, "http://example.com/final", "cafe", "A title",
                "[\"http://example.com/next\"]", "hello".getBytes(StandardCharsets.UTF_8), null, null);

        assertThat(queue.completeMany(List.of(new Completion.Completed(claimed.claim(), attempt, payload)), WORKER))
                .containsExactly(id);

        Map<String, Object> job = result(id);
        assertThat(job).containsEntry("state", "completed").containsEntry("attempts", 1)
                .containsEntry("status_code", 200).containsEntry("content_type", "text/html")
                .containsEntry("body_bytes", 5L).containsEntry("body_truncated", false)
                .containsEntry("body_sha256", "cafe").containsEntry("title", "A title")
                .containsEntry("final_url", "http://example.com/final").containsEntry("total_ms", 10);
        assertThat(String.valueOf(job.get("links"))).isEqualTo("[\"http://example.com/next\"]");
        assertThat(job.get("finished_at")).isNotNull();
        assertThat(queueRow(id)).as("a final job leaves the queue").isEmpty();
        List<Map<String, Object>> attempts = attempts(id);
        assertThat(attempts).hasSize(1);
        assertThat(attempts.getFirst()).containsEntry("attempt", 1).containsEntry("worker_id", WORKER)
                .containsEntry("status_code", 200).containsEntry("dns_ms", 1).containsEntry("ttfb_ms", 4);
        assertThat(String.valueOf(attempts.getFirst().get("remote_ip"))).isEqualTo("192.0.2.1");
        assertThat(((java.sql.Timestamp) attempts.getFirst().get("started_at")).toInstant()).isEqualTo(started);
        StoredBody body = jobs.bodyOf(id).orElseThrow();
        assertThat(body.contentType()).isEqualTo("text/html");
        assertThat(new String(body.body(), StandardCharsets.UTF_8)).isEqualTo("hello");
    }

    @Test
    void aRetryAtQueuesTheJobAgainDueAfterItsDelayWithTheAttemptCounted() {
        long id = aJob("http://example.com/flaky").submit();
        ClaimedJob claimed = claimOne();
        Completion.RetryAt later = new Completion.RetryAt(claimed.claim(),
                record(503, "http_status", "HTTP 503", 1, null), Payload.NONE, 60_000);

        assertThat(queue.completeMany(List.of(later), WORKER)).containsExactly(id);

        assertThat(result(id)).containsEntry("state", "queued").containsEntry("attempts", 1);
        assertThat(queueRow(id).orElseThrow()).containsEntry("lease_token", null).containsEntry("worker_id", null);
        assertThat(secondsUntilDue(id)).isBetween(50.0, 60.0);
        assertThat(attempts(id)).extracting(a -> a.get("attempt") + " " + a.get("status_code"))
                .containsExactly("1 503");
        assertThat(jobs.bodyOf(id)).isEmpty();
        assertThat(claimDue()).as("not due yet").isEmpty();
        makeDue(id);
        assertThat(claimOne().attempt()).isEqualTo(2);
    }

    @Test
    void aReleasedClaimGivesTheJobBackWithoutCountingOrRecordingTheAttempt() {
        long id = aJob("http://example.com/released").submit();
        ClaimedJob claimed = claimOne();

        assertThat(queue.completeMany(List.of(new Completion.Released(claimed.claim(), 0)), WORKER))
                .containsExactly(id);

        assertThat(result(id)).containsEntry("state", "queued").containsEntry("attempts", 0);
        assertThat(attempts(id)).isEmpty();
        assertThat(claimOne().attempt()).as("the same attempt again").isEqualTo(1);
    }

    @Test
    void nextAttemptRecordsTheFailedAttemptAndCountsTheNextUnderTheSameClaim() {
        long id = aJob("http://example.com/again").maxAttempts(3).submit();
        ClaimedJob claimed = claimOne();

        assertThat(queue.nextAttempt(retry(claimed, 503), WORKER, LEASE)).isTrue();

        assertThat(result(id)).containsEntry("state", "running").containsEntry("attempts", 2);
        assertThat(queueRow(id).orElseThrow()).containsEntry("attempt", 2)
                .containsEntry("lease_token", claimed.claim().leaseToken());
        assertThat(attempts(id)).extracting(a -> a.get("attempt") + " " + a.get("status_code"))
                .containsExactly("1 503");
        ClaimedJob next = claimed.nextAttempt();
        assertThat(queue.completeMany(List.of(completed(next)), WORKER)).as("written under the next attempt")
                .containsExactly(id);
        assertThat(result(id)).containsEntry("state", "completed").containsEntry("attempts", 2);
    }

    @Test
    void nextAttemptIsRefusedOnceTheBudgetIsSpent() {
        long id = aJob("http://example.com/spent").maxAttempts(2).submit();
        ClaimedJob claimed = claimOne();
        assertThat(queue.nextAttempt(retry(claimed, 503), WORKER, LEASE)).isTrue();

        assertThat(queue.nextAttempt(retry(claimed.nextAttempt(), 503), WORKER, LEASE)).isFalse();

        assertThat(result(id)).containsEntry("state", "running").containsEntry("attempts", 2);
        assertThat(attempts(id)).hasSize(1);
    }

    @Test
    void completionUnderALostClaimChangesNothing() {
        long id = aJob("http://example.com/x").submit();
        ClaimedJob claimed = claimOne();
        // Another worker took the job over (as after a rescue): new token, next attempt.
        sql.sql("UPDATE fetchq.queue SET lease_token = gen_random_uuid(), attempt = attempt + 1 WHERE job_id = :id")
                .param("id", id).update();

        assertThat(queue.completeMany(List.of(completed(claimed)), WORKER)).isEmpty();
        assertThat(result(id).get("state")).isEqualTo("running");
        assertThat(attempts(id)).isEmpty();
        assertThat(queue.nextAttempt(retry(claimed, 503), WORKER, LEASE)).isFalse();
    }

    @Test
    void resultsOfAStaleAndTheLiveClaimOfOneJobInOneBatchKeepTheLiveOne() {
        for (boolean staleFirst : new boolean[] {true, false}) {
            long id = aJob("http://example.com/twice-" + staleFirst).submit();
            ClaimedJob stale = claimOne();
            expireLease(id);
            assertThat(queue.rescueExpired(10).requeued()).isEqualTo(1);
            ClaimedJob live = claimOne();
            Completion staleResult = completed(stale, 201);
            Completion liveResult = completed(live, 202);

            assertThat(queue.completeMany(staleFirst ? List.of(staleResult, liveResult) : List.of(liveResult, staleResult),
                    WORKER)).containsExactly(id);
            Map<String, Object> job = result(id);
            assertThat(job.get("state")).isEqualTo("completed");
            assertThat(job.get("status_code")).as("stale first: %s", staleFirst).isEqualTo(202);
            assertThat(attempts(id)).extracting(a -> a.get("error_kind") + " " + a.get("status_code"))
                    .containsExactly("lease_expired null", "null 202");
        }
    }

    @Test
    void completionUnderItsClaimIsWrittenOnce() {
        long id = aJob("http://example.com/y").submit();
        ClaimedJob claimed = claimOne();
        assertThat(queue.completeMany(List.of(completed(claimed)), WORKER)).containsExactly(id);
        assertThat(queue.completeMany(List.of(completed(claimed)), WORKER)).isEmpty();
        Map<String, Object> job = result(id);
        assertThat(job.get("state")).isEqualTo("completed");
        assertThat(job.get("attempts")).isEqualTo(1);
        assertThat(attempts(id)).hasSize(1);
    }

    @Test
    void cancelRequestedWhileRunningEndsTheJobCancelledInsteadOfRequeued() {
        long id = aJob("http://example.com/z").submit();
        ClaimedJob claimed = claimOne();
        jobs.cancel(id, null);
        Completion.RetryAt retryLater = retry(claimed, 503);
        assertThat(queue.nextAttempt(retryLater, WORKER, LEASE)).isFalse();
        queue.completeMany(List.of(retryLater), WORKER);
        Map<String, Object> job = result(id);
        assertThat(job.get("state")).isEqualTo("cancelled");
        assertThat(job.get("error_kind")).isEqualTo("cancelled");
        assertThat(attempts(id)).hasSize(1);
    }

    @Test
    void textWithNulCharactersIsStored() {
        long id = aJob("http://example.com/nul").submit();
        ClaimedJob claimed = claimOne();
        Completion odd = new Completion.Failed(claimed.claim(),
                record(null, "protocol", "Unexpected status line: HTTP/1.1 2\u000000", 1, null),
                new Payload("text/\u0000html", null, null, null, null, "ti\u0000tle", "[\"http://a/\\u0000\"]", null, null, null));
        assertThat(queue.completeMany(List.of(odd), WORKER)).containsExactly(id);
        assertThat(result(id)).containsEntry("error_message", "Unexpected status line: HTTP/1.1 200")
                .containsEntry("content_type", "text/html").containsEntry("title", "title");
    }
}
