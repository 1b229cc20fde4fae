package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.AttemptRecord;
import io.fetchq.db.ClaimedJob;
import io.fetchq.db.Completion;
import io.fetchq.db.Payload;
import io.fetchq.worker.host.HostGuards;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A worker that lost its claim writes nothing; idle per-host state is dropped. */
class FencingTest extends WorkerTestBase {

    private static Completion completed(ClaimedJob job) {
        return completed(job, 200);
    }

    private static Completion completed(ClaimedJob job, int status) {
        return new Completion.Completed(job.claim(), record(status, null, null, 2, "127.0.0.1"),
                new Payload("text/plain", 2L, false, job.url(), "ab", null, null, "ok".getBytes()));
    }

    private static Completion.RetryAt retry(ClaimedJob job, int status) {
        return new Completion.RetryAt(job.claim(), record(status, "http_status", "HTTP " + status, 1, null),
                new Payload(null, 0L, false, null, null, null, null, null), 1000);
    }

    private static AttemptRecord record(Integer status, String errorKind, String errorMessage, Integer totalMs,
            String remoteIp) {
        Instant now = Instant.now();
        return new AttemptRecord(now, now, status, errorKind, errorMessage, null, null, null, null, totalMs, remoteIp,
                "[]");
    }

    @Test
    void completionUnderALostClaimChangesNothing() {
        long id = aJob("http://example.com/x").submit();
        ClaimedJob claimed = queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1)).getFirst();
        // Another worker took the job over (as after a rescue): new token, next attempt.
        sql.sql("UPDATE fetchq.queue SET lease_token = gen_random_uuid(), attempt = attempt + 1 WHERE job_id = :id")
                .param("id", id).update();

        assertThat(queue.completeMany(List.of(completed(claimed)), "w1")).isEmpty();
        assertThat(result(id).get("state")).isEqualTo("running");
        assertThat(attempts(id)).isEmpty();
        assertThat(queue.nextAttempt(retry(claimed, 503), "w1", Duration.ofMinutes(1))).isFalse();
    }

    @Test
    void resultsOfAStaleAndTheLiveClaimOfOneJobInOneBatchKeepTheLiveOne() {
        for (boolean staleFirst : new boolean[] {true, false}) {
            long id = aJob("http://example.com/twice-" + staleFirst).submit();
            ClaimedJob stale = queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1)).getFirst();
            sql.sql("UPDATE fetchq.queue SET lease_expires_at = now() - interval '1 second' WHERE job_id = :id")
                    .param("id", id).update();
            assertThat(queue.rescueExpired(10).requeued()).isEqualTo(1);
            ClaimedJob live = queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1)).getFirst();
            Completion staleResult = completed(stale, 201);
            Completion liveResult = completed(live, 202);

            assertThat(queue.completeMany(staleFirst ? List.of(staleResult, liveResult) : List.of(liveResult, staleResult),
                    "w1")).containsExactly(id);
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
        ClaimedJob claimed = queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1)).getFirst();
        assertThat(queue.completeMany(List.of(completed(claimed)), "w1")).containsExactly(id);
        assertThat(queue.completeMany(List.of(completed(claimed)), "w1")).isEmpty();
        Map<String, Object> job = result(id);
        assertThat(job.get("state")).isEqualTo("completed");
        assertThat(job.get("attempts")).isEqualTo(1);
        assertThat(attempts(id)).hasSize(1);
    }

    @Test
    void cancelRequestedWhileRunningEndsTheJobCancelledInsteadOfRequeued() {
        long id = aJob("http://example.com/z").submit();
        ClaimedJob claimed = queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1)).getFirst();
        jobs.cancel(id, null);
        Completion.RetryAt retryLater = retry(claimed, 503);
        assertThat(queue.nextAttempt(retryLater, "w1", Duration.ofMinutes(1))).isFalse();
        queue.completeMany(List.of(retryLater), "w1");
        Map<String, Object> job = result(id);
        assertThat(job.get("state")).isEqualTo("cancelled");
        assertThat(job.get("error_kind")).isEqualTo("cancelled");
        assertThat(attempts(id)).hasSize(1);
    }

    @Test
    void idleHostGuardsAreEvicted() {
        HostGuards guards = new HostGuards(settings("host-idle-eviction", "1ms"));
        for (int i = 0; i < 1000; i++) {
            var guard = guards.acquire("host" + i + ".example");
            guards.fetched(guard);
            guards.release(guard);
        }
        var held = guards.acquire("busy.example");
        await("idle guards evicted", Duration.ofSeconds(5), () -> {
            guards.evictIdle();
            return guards.size() == 1;
        });
        // Its limit of 8 and a buffer of four times that, less the one job held.
        assertThat(guards.room().ordinary()).containsOnly(java.util.Map.entry("busy.example", 39));
        guards.fetched(held);
        assertThat(guards.room().ordinary()).as("done fetching: the host has its whole room back").isEmpty();
        guards.release(held);
        assertThat(guards.room().ordinary()).isEmpty();
    }

    @Test
    void textWithNulCharactersIsStored() {
        long id = aJob("http://example.com/nul").submit();
        ClaimedJob claimed = queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1)).getFirst();
        Completion odd = new Completion.Failed(claimed.claim(),
                record(null, "protocol", "Unexpected status line: HTTP/1.1 2\u000000", 1, null),
                new Payload("text/\u0000html", null, null, null, null, "ti\u0000tle", "[\"http://a/\\u0000\"]", null));
        assertThat(queue.completeMany(List.of(odd), "w1")).containsExactly(id);
        assertThat(result(id).get("error_message")).isEqualTo("Unexpected status line: HTTP/1.1 200");
    }

    @Test
    void aResultTheDatabaseRefusesDoesNotHoldBackItsBatch() throws Exception {
        long good = aJob("http://example.com/good").submit();
        long bad = aJob("http://example.com/bad").submit();
        List<ClaimedJob> claimed = queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1));
        List<Completion> completions = claimed.stream().<Completion>map(j -> new Completion.Completed(j.claim(),
                record(200, null, null, 1, j.jobId() == bad ? "not an address" : "127.0.0.1"),
                new Payload("text/plain", 2L, false, j.url(), "ab", "t", null, null))).toList();
        var completer = new io.fetchq.worker.complete.Completer(queue, "w1", 100, 1);
        var written = new java.util.concurrent.CountDownLatch(2);
        completer.start();
        completions.forEach(c -> completer.submit(c, written::countDown));
        assertThat(written.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        completer.close();
        assertThat(result(good).get("title")).isEqualTo("t");
        assertThat(result(bad).get("state")).isEqualTo("completed");
        assertThat(result(bad).get("title")).isNull();
        assertThat(attempts(bad).getFirst().get("remote_ip")).isNull();
    }
}
