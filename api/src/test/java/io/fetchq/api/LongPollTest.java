package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;

/** {@code wait_ms} on a clock moved by hand: a minute's wait is tested in no time. */
class LongPollTest {

    private final AtomicLong now = new AtomicLong();
    private final List<Long> sleeps = new ArrayList<>();
    private final LongPoll poll = poll(Duration.ofMillis(200));

    /**
     * A long poll looking every {@code interval}, on the clock moved by hand: a pause records itself
     * and moves the clock on by its length, unless it was woken (then no time passes).
     */
    private LongPoll poll(Duration interval) {
        return new LongPoll(new ApiProperties(Duration.ofSeconds(60), interval, 100, 1000, Duration.ofSeconds(2),
                Duration.ofSeconds(30)), new DefaultListableBeanFactory().getBeanProvider(MeterRegistry.class),
                now::get, (wake, millis) -> {
                    sleeps.add(millis);
                    if (!wake.tryAcquire()) {
                        now.addAndGet(millis * 1_000_000);
                    }
                });
    }

    @Test
    void aWaitLooksEveryPollIntervalUntilItIsUp() {
        AtomicInteger looks = new AtomicInteger();
        Optional<String> read = poll.await(1_000L, "b1", () -> {
            looks.incrementAndGet();
            return false;
        }, () -> Optional.of("read"));
        assertThat(read).contains("read");
        assertThat(sleeps).containsExactly(200L, 200L, 200L, 200L, 200L);
        assertThat(looks.get()).isEqualTo(5);
        assertThat(now.get()).isEqualTo(Duration.ofSeconds(1).toNanos());
    }

    @Test
    void aWaitEndsAtTheFirstLookThatFindsItDone() {
        AtomicInteger looks = new AtomicInteger();
        poll.await(30_000L, "b1", () -> looks.incrementAndGet() == 3, Optional::empty);
        assertThat(sleeps).containsExactly(200L, 200L);
        assertThat(now.get()).isEqualTo(Duration.ofMillis(400).toNanos());
    }

    @Test
    void noWaitIsLongerThanTheMaximum() {
        poll.await(Duration.ofHours(1).toMillis(), "b1", () -> false, Optional::empty);
        assertThat(now.get()).isEqualTo(Duration.ofSeconds(60).toNanos());
        assertThat(sleeps).hasSize(300);
    }

    @Test
    void withoutAWaitItReadsAtOnce() {
        assertThat(poll.await(null, "b1", () -> false, () -> Optional.of(1))).contains(1);
        assertThat(sleeps).isEmpty();
    }

    @Test
    void whileNotificationsArriveAWaitLooksWhenToldOfWhatItWaitsForAndSeldomOtherwise() {
        LongPoll notified = poll(Duration.ofSeconds(5));
        notified.notificationsArrive(true);
        AtomicInteger looks = new AtomicInteger();
        notified.await(60_000L, "b7", () -> {
            int look = looks.incrementAndGet();
            if (look == 2) {
                notified.finished(List.of("b8", "j3"));
            } else if (look == 3) {
                notified.finished(List.of("b9", "b7"));
            }
            return look == 4;
        }, Optional::empty);
        // Looked at once, after a full pause (nothing said), after a pause that another batch's news
        // did not cut short, then at once when told of its own.
        assertThat(sleeps).containsExactly(5_000L, 5_000L, 5_000L);
        assertThat(now.get()).isEqualTo(Duration.ofSeconds(10).toNanos());
        assertThat(notified.waiting()).isZero();
    }

    @Test
    void whenNotificationsStopArrivingAWaitLooksOftenAgain() {
        LongPoll poll5s = poll(Duration.ofSeconds(5));
        poll5s.await(1_000L, "b1", () -> false, Optional::empty);
        assertThat(sleeps).containsExactly(200L, 200L, 200L, 200L, 200L);
    }
}
