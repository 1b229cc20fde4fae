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

/**
 * Idle per-host state is dropped, a result the database refuses is stored without the remote's
 * text rather than holding back its batch, and results that end close together share a statement. (The fencing of the SQL itself, a lost claim writing
 * nothing, is tested in the db module: {@code CompleteSqlTest}.)
 */
class FencingTest extends WorkerTestBase {

    private static AttemptRecord record(Integer status, String errorKind, String errorMessage, Integer totalMs,
            String remoteIp) {
        Instant now = Instant.now();
        return new AttemptRecord(now, now, status, errorKind, errorMessage, null, null, null, null, totalMs, remoteIp,
                "[]");
    }

    @Test
    void hostStateIsBoundedInCountNotOnlyInTime() {
        // A broad crawl meeting new hosts faster than they go idle: past max-hosts, the least recently
        // used hosts with nothing held are dropped at once; hosts with jobs held never are.
        HostGuards guards = new HostGuards(settings("max-hosts", "10", "host-idle-eviction", "1h"));
        var held = guards.acquire("held.example");
        for (int i = 0; i < 100; i++) {
            var guard = guards.acquire("host" + i + ".example");
            guards.fetched(guard);
            guards.release(guard);
        }
        guards.evictIdle();
        assertThat(guards.size()).isEqualTo(10);
        assertThat(guards.get("held.example")).as("a host with a job held stays").isNotNull();
        assertThat(guards.get("host99.example")).as("the most recently used stay").isNotNull();
        assertThat(guards.get("host0.example")).as("the least recently used go").isNull();
        guards.release(held);
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
    void aResultTheDatabaseRefusesDoesNotHoldBackItsBatch() throws Exception {
        long good = aJob("http://example.com/good").submit();
        long bad = aJob("http://example.com/bad").submit();
        List<ClaimedJob> claimed = queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1));
        List<Completion> completions = claimed.stream().<Completion>map(j -> new Completion.Completed(j.claim(),
                record(200, null, null, 1, j.jobId() == bad ? "not an address" : "127.0.0.1"),
                new Payload("text/plain", 2L, false, j.url(), "ab", "t", null, null, null, null))).toList();
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

    @Test
    void resultsThatEndCloseTogetherShareAStatement() throws Exception {
        long first = aJob("http://example.com/first").submit();
        long second = aJob("http://example.com/second").submit();
        Map<Long, ClaimedJob> claimed = new java.util.HashMap<>();
        queue.claimDue("w1", 10, 40, 8, Map.of(), Duration.ofMinutes(1)).forEach(j -> claimed.put(j.jobId(), j));
        List<List<String>> statements = new java.util.concurrent.CopyOnWriteArrayList<>();
        var written = new java.util.concurrent.CountDownLatch(2);
        // Batches of two and a linger far longer than this test: the writer holds the first result until
        // the second fills its batch.
        var completer = new io.fetchq.worker.complete.Completer(queue, "w1", 2, Duration.ofSeconds(60), 1,
                1024 * 1024, () -> { }, statements::add);
        completer.start();
        completer.submit(completed(claimed.get(first)), written::countDown);
        // The writer took the first result (nothing is waiting for it any more) before the second ends.
        await("the writer took the first result", Duration.ofSeconds(10), () -> completer.backlog() == 0);
        completer.submit(completed(claimed.get(second)), written::countDown);
        assertThat(written.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        completer.close();
        assertThat(statements).as("one statement wrote both").hasSize(1);
        assertThat(result(first).get("state")).isEqualTo("completed");
        assertThat(result(second).get("state")).isEqualTo("completed");
    }

    private static Completion completed(ClaimedJob job) {
        return new Completion.Completed(job.claim(), record(200, null, null, 1, "127.0.0.1"),
                new Payload("text/plain", 2L, false, job.url(), "ab", "t", null, null, null, null));
    }
}
