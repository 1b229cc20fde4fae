package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.worker.loop.BackgroundLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Every background loop of a worker survives whatever a pass throws, backing off between failures. */
class BackgroundLoopTest {

    @Test
    void aLoopGoesOnAfterAnyFailureBackingOffAndStartingOverAfterASuccess() {
        AtomicInteger failures = new AtomicInteger();
        List<Long> passStarts = new CopyOnWriteArrayList<>();
        AtomicInteger passes = new AtomicInteger();
        // Fails three times (an exception, an error, an exception), succeeds once, fails once more.
        try (BackgroundLoop loop = BackgroundLoop.continuous("test", "fetchq-test-loop", "w1", failures::incrementAndGet,
                () -> {
                    passStarts.add(System.nanoTime());
                    switch (passes.incrementAndGet()) {
                        case 1, 3, 5 -> throw new IllegalStateException("database away");
                        case 2 -> throw new StackOverflowError("a bug");
                        case 4 -> { }
                        default -> Thread.sleep(10);
                    }
                })) {
            loop.start();
            Awaitility.await("six passes").atMost(Duration.ofSeconds(10)).until(() -> passes.get() >= 6);
            assertThat(failures.get()).isEqualTo(4);
            assertThat(loop.running()).isTrue();
            long first = passStarts.get(1) - passStarts.get(0);
            long second = passStarts.get(2) - passStarts.get(1);
            long third = passStarts.get(3) - passStarts.get(2);
            long afterSuccess = passStarts.get(5) - passStarts.get(4);
            assertThat(Duration.ofNanos(first)).isGreaterThanOrEqualTo(BackgroundLoop.FIRST_BACKOFF);
            assertThat(Duration.ofNanos(second)).isGreaterThanOrEqualTo(BackgroundLoop.FIRST_BACKOFF.multipliedBy(2));
            assertThat(Duration.ofNanos(third)).isGreaterThanOrEqualTo(BackgroundLoop.FIRST_BACKOFF.multipliedBy(4));
            assertThat(Duration.ofNanos(afterSuccess)).as("a success starts the backoff over")
                    .isGreaterThanOrEqualTo(BackgroundLoop.FIRST_BACKOFF)
                    .isLessThan(BackgroundLoop.FIRST_BACKOFF.multipliedBy(4));
        }
    }

    @Test
    void aPeriodicLoopWaitsItsIntervalBetweenPassesAndStopsWhenClosed() {
        AtomicInteger passes = new AtomicInteger();
        BackgroundLoop loop = BackgroundLoop.every("test", "fetchq-test-every", "w1", () -> { }, Duration.ZERO,
                Duration.ofMillis(50), passes::incrementAndGet);
        loop.start();
        Awaitility.await("three passes").atMost(Duration.ofSeconds(10)).until(() -> passes.get() >= 3);
        loop.close();
        int after = passes.get();
        assertThat(loop.running()).isFalse();
        // Closed: no pass starts again, however long one waits for it.
        Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1))
                .until(() -> passes.get() == after);
    }
}
