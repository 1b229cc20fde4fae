package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.ClaimedJob;
import io.fetchq.url.FetchProperties;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.attempt.AttemptRunner;
import io.fetchq.worker.complete.Completer;
import io.fetchq.worker.fetch.FetchCancellation;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.Fetcher;
import io.fetchq.worker.fetch.HttpFetcher;
import io.fetchq.worker.host.HostGuard;
import io.fetchq.worker.host.HostGuards;
import io.fetchq.worker.retry.RetryPolicy;
import io.fetchq.worker.time.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A claim is (job, lease token, attempt), never just the job: a worker that claims a job again
 * while its older, rescued claim of it is still fetching keeps the two apart — whichever ends
 * first, and however the older one ends. And a shutdown past its grace stops its fetches before it
 * gives their jobs back, and a claim that arrives once the worker is stopping goes back uncounted.
 */
class ClaimIdentityTest extends WorkerTestBase {

    private static final Duration WAIT = Duration.ofSeconds(15);

    @Test
    void aStaleClaimEndingFirstDoesNotDropTheLiveResult() {
        startWorker(settings("lease", "30s"));
        long id = claimedTwice("first");
        server.open("first", 1);
        await("the stale fetch answered", WAIT, () -> server.active("/gate/first") == 1);
        server.open("first", 2);

        assertLiveResultKept(id, "first");
    }

    @Test
    void aLiveClaimEndingFirstIsNotUndoneByTheStaleOne() {
        startWorker(settings("lease", "30s"));
        long id = claimedTwice("second");
        server.open("second", 2);
        await("the live result written", WAIT, () -> "completed".equals(result(id).get("state")));
        server.open("second", 1);
        await("the stale fetch answered", WAIT, () -> server.active("/gate/second") == 0);

        assertLiveResultKept(id, "second");
    }

    @Test
    void aStaleClaimFailingUnexpectedlyDoesNotReleaseTheLiveClaim() {
        // A fault of the worker's own (an Error out of the fetch) in the stale claim's thread only.
        startWorker(settings("lease", "30s"), fetchSettings(), real -> new Fetcher() {
            @Override
            public FetchOutcome fetch(ClaimedJob job, FetchCancellation cancellation) {
                FetchOutcome outcome = real.fetch(job, cancellation);
                if (job.attempt() == 1) {
                    throw new LinkageError("injected fault in the stale claim");
                }
                return outcome;
            }

            @Override
            public void close() {
                real.close();
            }
        });
        long id = claimedTwice("third");
        server.open("third", 1);
        await("the stale fetch answered", WAIT, () -> server.active("/gate/third") == 1);
        server.open("third", 2);

        assertLiveResultKept(id, "third");
    }

    @Test
    void aShutdownPastItsGraceCancelsTheFetchCountsTheAttemptAndOnlyThenGivesTheJobBack() {
        Worker stopping = startWorker(settings("shutdown-grace", "300ms"));
        long id = aJob(server.url("/hang/stop")).timeoutMs(30_000).maxAttempts(3).submit();
        long last = aJob(server.url("/hang/last")).timeoutMs(30_000).maxAttempts(1).submit();
        await("both fetching", WAIT, () -> server.active("/hang/stop") == 1 && server.active("/hang/last") == 1);

        stopping.close();

        assertThat(server.active("/hang/stop") + server.active("/hang/last")).as("requests still open").isZero();
        Map<String, Object> job = result(id);
        assertState(job, "queued");
        assertThat(job.get("attempts")).as("the sent request counts").isEqualTo(1);
        assertThat(attempts(id)).extracting(a -> a.get("error_kind")).containsExactly("cancelled");
        Map<String, Object> spent = result(last);
        assertState(spent, "failed");
        assertThat(spent.get("error_kind")).isEqualTo("cancelled");

        startWorker(settings());
        await("fetched again by another worker", WAIT, () -> server.hits("/hang/stop") == 2);
        assertThat(server.peakOf("/hang/stop")).as("requests of the job in flight at once").isEqualTo(1);
    }

    /**
     * A job whose first claim is fetching (request 1 held) when its lease is made to expire and it
     * is rescued; the same worker claims it again and fetches (request 2 held).
     */
    private long claimedTwice(String key) {
        long id = aJob(server.url("/gate/" + key)).maxAttempts(3).submit();
        await("the first claim fetching", WAIT, () -> server.hits("/gate/" + key) == 1);
        sql.sql("UPDATE fetchq.queue SET lease_expires_at = now() - interval '1 second' WHERE job_id = :id")
                .param("id", id).update();
        assertThat(queue.rescueExpired(10).requeued()).isEqualTo(1);
        await("the second claim fetching", WAIT, () -> server.hits("/gate/" + key) == 2);
        return id;
    }

    private static void assertLiveResultKept(long id, String key) {
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        assertThat(job.get("attempts")).isEqualTo(2);
        List<Map<String, Object>> attempts = attempts(id);
        assertThat(attempts).extracting(a -> a.get("error_kind") + " " + a.get("status_code"))
                .containsExactly("lease_expired null", "null 200");
        assertThat(sql.sql("SELECT convert_from(body, 'UTF8') FROM fetchq.job_bodies WHERE job_id = :id")
                .param("id", id).query(String.class).single()).isEqualTo("answer 2");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.queue").query(Long.class).single()).isZero();
    }

    @Test
    void aClaimThatArrivesAfterTheRunnerStoppedGoesBackUncounted() {
        WorkerProperties properties = settings();
        FetchProperties fetch = fetchSettings();
        try (HttpFetcher fetcher = new HttpFetcher(
                new UrlPolicy(false, fetch.allowedNetworks()), fetch, 4, TEST_DNS)) {
            AttemptRunner runner = new AttemptRunner(properties, queue,
                    fetcher, new io.fetchq.worker.robots.Robots(new io.fetchq.db.HostLedger(new org.springframework.jdbc.core.JdbcTemplate(dataSource)).robots(),
                            fetcher, properties.robots(), properties.id(), java.time.Clock.systemUTC()),
                    null,
                    new RetryPolicy(properties),
                    new HostGuards(properties, Ticker.SYSTEM),
                    new Completer(queue, properties.id(), 10, 1), WorkerMetrics.none(),
                    new AttemptRunner.Freed() {
                        @Override
                        public void fetchEnded(HostGuard guard) {
                        }

                        @Override
                        public void resultWritten() {
                        }
                    }, Clock.systemUTC());
            runner.stop(Duration.ZERO);
            long id = aJob(server.url("/page/late")).submit();
            // A claim statement the claimer stopped waiting for, returning now.
            ClaimedJob late = queue.claimDue(properties.id(), 1, 10, 10, Map.of(), properties.lease()).getFirst();

            runner.start(late);

            Map<String, Object> job = result(id);
            assertState(job, "queued");
            assertThat(job.get("attempts")).as("not counted").isEqualTo(0);
            assertThat(attempts(id)).isEmpty();
            assertThat(server.hits).as("nothing sent").doesNotContainKey("/page/late");
            runner.close();
        }
    }
}
