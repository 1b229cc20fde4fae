package io.fetchq.worker.lease;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DatabaseLinkTest {

    private static final Duration LEASE = Duration.ofSeconds(30);

    private final AtomicLong now = new AtomicLong(1_000);
    private final DatabaseLink link = new DatabaseLink(now::get);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void notConnectedUntilAStatementSucceeds() {
        advance(Duration.ofHours(1));
        assertThat(link.connectedFor(Duration.ZERO)).isFalse();
    }

    @Test
    void connectedForALeaseOnlyALeaseAfterTheFirstSuccess() {
        link.succeeded();
        advance(LEASE.minusMillis(1));
        link.succeeded();
        assertThat(link.connectedFor(LEASE)).isFalse();
        advance(Duration.ofMillis(1));
        assertThat(link.connectedFor(LEASE)).isTrue();
    }

    @Test
    void aFailureStartsTheTimeConnectedOverAtTheNextSuccess() {
        link.succeeded();
        advance(LEASE.multipliedBy(10));
        link.failed();
        assertThat(link.connectedFor(Duration.ZERO)).isFalse();
        advance(Duration.ofMinutes(5));
        link.succeeded();
        advance(LEASE.minusSeconds(1));
        assertThat(link.connectedFor(LEASE)).as("a lease has not passed since the database came back").isFalse();
        advance(Duration.ofSeconds(1));
        assertThat(link.connectedFor(LEASE)).isTrue();
    }

    @Test
    void reconnectionIsToldOnceForEachReturnOfTheDatabase() {
        AtomicInteger told = new AtomicInteger();
        link.onReconnect(told::incrementAndGet);
        link.succeeded();
        link.succeeded();
        assertThat(told).hasValue(1);
        link.failed();
        link.failed();
        link.succeeded();
        link.succeeded();
        assertThat(told).hasValue(2);
    }
}
