package io.fetchq.worker.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every background loop of a worker survives whatever a pass throws, backing off between failures.
 * The waits are recorded instead of waited: the backoff is checked exactly, in no time.
 */
class BackgroundLoopTest {

    private final List<Long> pauses = new CopyOnWriteArrayList<>();
    private final AtomicInteger passes = new AtomicInteger();
    private final AtomicInteger failures = new AtomicInteger();
    /** The pass that ends a script waits here until the test has looked. */
    private final CountDownLatch scriptDone = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private BackgroundLoop loop;

    /** A pass that plays {@code script}: "x" throws an exception, "e" an error, "ok" returns; then it waits. */
    private BackgroundLoop.Pass playing(String... script) {
        return () -> {
            int n = passes.getAndIncrement();
            if (n >= script.length) {
                scriptDone.countDown();
                release.await();
                return;
            }
            switch (script[n]) {
                case "x" -> throw new IllegalStateException("database away");
                case "e" -> throw new StackOverflowError("a bug");
                default -> { }
            }
        };
    }

    private void runUntilTheScriptIsDone(BackgroundLoop started) throws InterruptedException {
        loop = started;
        loop.start();
        assertThat(scriptDone.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @AfterEach
    void close() {
        release.countDown();
        if (loop != null) {
            loop.close();
        }
    }

    @Test
    void aLoopGoesOnAfterAnyFailureBackingOffAndStartingOverAfterASuccess() throws InterruptedException {
        runUntilTheScriptIsDone(new BackgroundLoop("test", "fetchq-test-loop", "w1", failures::incrementAndGet,
                Duration.ZERO, null, playing("x", "e", "x", "x", "x", "x", "x", "x", "ok", "x"), pauses::add));

        assertThat(failures.get()).isEqualTo(9);
        assertThat(loop.running()).isTrue();
        assertThat(pauses).as("100 ms doubling to 5 s, and 100 ms again after a success")
                .containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L, 100L);
    }

    @Test
    void aPeriodicLoopWaitsItsIntervalAfterASuccessAndNoLongerThanThatAfterAFailure() throws InterruptedException {
        runUntilTheScriptIsDone(new BackgroundLoop("test", "fetchq-test-every", "w1", failures::incrementAndGet,
                Duration.ofMillis(300), Duration.ofMillis(1000), playing("x", "x", "ok", "x", "x", "x", "x", "ok"),
                pauses::add));

        assertThat(failures.get()).isEqualTo(6);
        assertThat(pauses).containsExactly(300L, 100L, 200L, 1000L, 100L, 200L, 400L, 800L, 1000L);
    }

    @Test
    void aClosedLoopsThreadHasEnded() {
        AtomicInteger ran = new AtomicInteger();
        BackgroundLoop periodic = BackgroundLoop.every("test", "fetchq-test-close", "w1", () -> { }, Duration.ZERO,
                Duration.ofMillis(10), ran::incrementAndGet);
        periodic.start();
        while (ran.get() < 3) {
            Thread.onSpinWait();
        }
        periodic.close();
        assertThat(periodic.running()).isFalse();
        // close() returns once the loop's thread has ended: nothing can run after it.
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("fetchq-test-close"));
    }

    @Test
    void aWokenPeriodicLoopRunsItsNextPassAtOnce() throws InterruptedException {
        AtomicInteger ran = new AtomicInteger();
        loop = BackgroundLoop.every("test", "test-loop", "w1", failures::incrementAndGet, Duration.ZERO,
                Duration.ofHours(1), ran::incrementAndGet);
        loop.start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ran.get() == 1);

        loop.wake();

        org.awaitility.Awaitility.await("a pass long before the hour is up").atMost(Duration.ofSeconds(10))
                .until(() -> ran.get() == 2);
    }
}
