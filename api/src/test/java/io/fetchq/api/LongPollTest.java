package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

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
    private final LongPoll poll = new LongPoll(new ApiProperties(Duration.ofSeconds(60), Duration.ofMillis(200), 100,
            1000, Duration.ofSeconds(2), Duration.ofSeconds(30)),
            new DefaultListableBeanFactory().getBeanProvider(io.micrometer.core.instrument.MeterRegistry.class),
            now::get, millis -> {
                sleeps.add(millis);
                now.addAndGet(millis * 1_000_000);
            });

    @Test
    void aWaitLooksEveryPollIntervalUntilItIsUp() {
        AtomicInteger looks = new AtomicInteger();
        Optional<String> read = poll.await(1_000L, () -> {
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
        poll.await(30_000L, () -> looks.incrementAndGet() == 3, Optional::empty);
        assertThat(sleeps).containsExactly(200L, 200L);
        assertThat(now.get()).isEqualTo(Duration.ofMillis(400).toNanos());
    }

    @Test
    void noWaitIsLongerThanTheMaximum() {
        poll.await(Duration.ofHours(1).toMillis(), () -> false, Optional::empty);
        assertThat(now.get()).isEqualTo(Duration.ofSeconds(60).toNanos());
        assertThat(sleeps).hasSize(300);
    }

    @Test
    void withoutAWaitItReadsAtOnce() {
        assertThat(poll.await(null, () -> false, () -> Optional.of(1))).contains(1);
        assertThat(sleeps).isEmpty();
    }
}
