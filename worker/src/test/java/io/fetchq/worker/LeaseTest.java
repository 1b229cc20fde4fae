package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.worker.time.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Leases as the database sees them and as the worker acts on them: a rescuer that has not been
 * connected for a whole lease leaves expired leases alone (their owners may not have been able to
 * renew), and a worker that finds a lease gone stops that job's fetch at once.
 */
class LeaseTest extends WorkerTestBase {

    @Test
    void aRescuerTakesNoExpiredLeaseUntilItHasBeenConnectedForALease() {
        long id = aJob(server.url("/page/after-outage")).maxAttempts(3).submit();
        sql.sql("""
                UPDATE fetchq.queue
                SET state = 'running', attempt = 1, lease_token = gen_random_uuid(), worker_id = 'owner',
                    lease_expires_at = now() - interval '10 seconds', attempt_started_at = now() - interval '20 seconds'
                WHERE job_id = :id""").param("id", id).update();
        AtomicLong now = new AtomicLong();
        Ticker ticker = now::get;
        startWorker(settings("lease", "2s", "rescue-interval", "100ms"), WorkerMetrics.none(), ticker);

        // Connected, but not for a lease yet: the owner may still renew, so the job stays its.
        Awaitility.await("the expired lease left alone").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> "owner".equals(sql.sql("SELECT worker_id FROM fetchq.queue WHERE job_id = :id")
                        .param("id", id).query(String.class).optional().orElse(null)));
        assertThat(attempts(id)).isEmpty();

        now.addAndGet(Duration.ofSeconds(2).toNanos());
        Map<String, Object> job = awaitFinal(id, Duration.ofSeconds(20));
        assertState(job, "completed");
        assertThat(attempts(id)).extracting(a -> a.get("error_kind")).containsExactly("lease_expired", null);
    }

    @Test
    void aLeaseLostToAnotherWorkerStopsItsFetchAtOnceAndOnlyThatOne() {
        // Both jobs are claimed by one statement (one lease token), before the worker starts.
        long lost = aJob(server.url("/hang/lost")).timeoutMs(120_000).submit();
        long kept = aJob(server.url("/hang/kept")).timeoutMs(120_000).submit();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        startWorker(settings("lease", "900ms"), new WorkerMetrics(registry), Ticker.SYSTEM);
        await("fetching", Duration.ofSeconds(10), () -> server.hits.containsKey("/hang/lost")
                && server.hits.containsKey("/hang/kept") && inFlight(registry) == 2);
        assertThat(sql.sql("SELECT count(DISTINCT lease_token) FROM fetchq.queue").query(Long.class).single())
                .as("one claim statement").isEqualTo(1);

        // Another worker took one job (as a rescue after a stall would): that lease is no longer ours.
        sql.sql("""
                UPDATE fetchq.queue SET lease_token = gen_random_uuid(), worker_id = 'other',
                       lease_expires_at = now() + interval '1 hour'
                WHERE job_id = :id""").param("id", lost).update();

        await("the lost job's fetch stopped", Duration.ofSeconds(10), () -> inFlight(registry) == 1);
        assertThat(registry.get("fetchq.worker.leases.lost").counter().count()).isEqualTo(1);
        assertThat(sql.sql("SELECT worker_id FROM fetchq.queue WHERE job_id = :id").param("id", lost)
                .query(String.class).single()).as("the other worker's claim, untouched").isEqualTo("other");
        assertThat(attempts(lost)).as("nothing written under the lost claim").isEmpty();
        // The job that shares the lost one's lease token is still this worker's, and goes on.
        Awaitility.await("the other job still fetched").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> inFlight(registry) == 1 && registry.get("fetchq.worker.leases.lost").counter().count() == 1);
        assertState(result(kept), "running");
    }

    private static double inFlight(SimpleMeterRegistry registry) {
        return registry.get("fetchq.in.flight").gauge().value();
    }
}
