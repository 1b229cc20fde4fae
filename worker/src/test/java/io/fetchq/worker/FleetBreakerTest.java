package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.NewJob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A host's circuit breaker is the fleet's: when one worker's breaker opens on a host that stopped
 * answering, every worker stops sending it requests within a second, until the open time is up;
 * then one worker makes the trial calls.
 */
class FleetBreakerTest extends WorkerTestBase {

    /** One observation of the host's row in the ledger. */
    private record Seen(String breaker, Instant changedAt, Instant openUntil, String trialWorker) {
    }

    @Test
    void anOpenBreakerStopsEveryWorkerWithinASecond() throws Exception {
        for (int w = 0; w < 3; w++) {
            startWorker(settings("breaker-minimum-calls", "4", "breaker-window", "4", "breaker-open-for", "2s",
                    "per-host", "3", "host-sync-interval", "200ms"));
        }
        List<Seen> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = Thread.ofVirtual().start(() -> {
            while (watching.get()) {
                sql.sql("SELECT breaker, changed_at, open_until, trial_worker FROM fetchq.host WHERE host = 'down.test'")
                        .query((rs, n) -> new Seen(rs.getString(1), rs.getTimestamp(2).toInstant(),
                                rs.getTimestamp(3) == null ? null : rs.getTimestamp(3).toInstant(), rs.getString(4)))
                        .optional()
                        .filter(s -> seen.isEmpty() || !seen.getLast().equals(s))
                        .ifPresent(seen::add);
                java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            }
        });
        // Requests that hang until their 500 ms timeout, so that the host's first failures come after
        // every worker had a sync to take its part of the host's slots: all three fetch from it.
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            batch.add(aJob(server.url("down.test", "/hang/" + i)).maxAttempts(1).timeoutMs(500).build());
        }
        long batchId = jobs.insertBatch(batch).id();
        await("batch done", Duration.ofSeconds(90), () -> batchDone(batchId));
        watching.set(false);
        watcher.join();

        List<Seen> opened = seen.stream().filter(s -> s.breaker().equals("open")).toList();
        assertThat(opened).as("the ledger's breaker opened").isNotEmpty();
        assertThat(seen.stream().filter(s -> s.breaker().equals("half_open")).map(Seen::trialWorker))
                .as("one worker makes each window's trials").doesNotContainNull();
        for (Seen open : opened) {
            Instant quietFrom = open.changedAt().plusSeconds(1);
            long requests = sql.sql("""
                    SELECT count(*) FROM fetchq.attempts a JOIN fetchq.job_results r USING (job_id)
                    WHERE r.host = 'down.test' AND a.started_at >= :from AND a.started_at < :until""")
                    .param("from", java.sql.Timestamp.from(quietFrom))
                    .param("until", java.sql.Timestamp.from(open.openUntil().minusMillis(50)))
                    .query(Long.class).single();
            assertThat(requests).as("requests to the host from any worker while its breaker was open (from a second "
                    + "after it opened at %s until %s)", open.changedAt(), open.openUntil()).isZero();
        }
        assertThat(sql.sql("SELECT count(DISTINCT worker_id) FROM fetchq.attempt").query(Long.class).single())
                .as("workers that fetched from the host").isGreaterThan(1);
    }
}
