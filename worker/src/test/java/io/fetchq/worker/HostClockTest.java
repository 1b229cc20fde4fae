package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.worker.host.HostGuard;
import io.fetchq.worker.host.HostGuards;
import io.fetchq.worker.time.Ticker;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A host's pause and its breaker's open time run on the worker's {@link Ticker}: moved on here by
 * hand, so that a minute-long open breaker is tested in no time.
 */
class HostClockTest {

    /** A clock that moves only when told to. */
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Ticker ticker = now::get;

    private void advance(Duration by) {
        now.addAndGet(by.toNanos());
    }

    @Test
    void aPausedHostGetsNoClaimsUntilItsPauseIsOver() {
        HostGuards hosts = new HostGuards(WorkerTestBase.settings("per-host", "2", "host-buffer-percent", "0"), ticker);
        HostGuard guard = hosts.acquire("slow.example");
        hosts.fetched(guard);
        guard.pauseFor(Duration.ofMinutes(10).toMillis());

        assertThat(guard.pausedForMs()).isEqualTo(Duration.ofMinutes(10).toMillis());
        assertThat(hosts.room().ordinary()).containsEntry("slow.example", 0);
        advance(Duration.ofMinutes(9));
        assertThat(guard.pausedForMs()).isEqualTo(Duration.ofMinutes(1).toMillis());
        assertThat(guard.freeRoom()).isZero();
        advance(Duration.ofMinutes(1));
        assertThat(guard.pausedForMs()).isZero();
        assertThat(guard.freeRoom()).isEqualTo(2);
    }

    @Test
    void anOpenBreakerLetsTrialsThroughOnlyOnceItsOpenTimeIsUp() {
        HostGuards hosts = new HostGuards(WorkerTestBase.settings("breaker-minimum-calls", "2", "breaker-window", "2",
                "breaker-open-for", "60s", "breaker-trial-calls", "2", "per-host", "4"), ticker);
        HostGuard guard = hosts.acquire("down.example");
        for (long job = 1; job <= 2; job++) {
            assertThat(guard.tryAdmit()).isTrue();
            guard.recordFailure(job, 1_000_000, "connect: refused");
        }
        assertThat(guard.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(guard.openForMs()).isEqualTo(60_000);
        assertThat(guard.tryAdmit()).isFalse();

        advance(Duration.ofSeconds(59));
        assertThat(hosts.room().trials()).isEmpty();
        assertThat(guard.openForMs()).isEqualTo(1_000);
        assertThat(guard.tryAdmit()).isFalse();

        advance(Duration.ofSeconds(1));
        assertThat(hosts.room().trials()).isEqualTo(Map.of("down.example", 2));
        assertThat(guard.breaker().getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        for (int trial = 0; trial < 2; trial++) {
            assertThat(guard.tryAdmit()).isTrue();
            guard.recordSuccess(1_000_000);
        }
        assertThat(guard.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(guard.openForMs()).isZero();
    }
}
