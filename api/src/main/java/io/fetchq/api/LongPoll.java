package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * {@code ?wait_ms=N}: holds a request until what it reads is done or N ms pass (capped at
 * {@code fetchq.api.max-wait}), looking again every {@code fetchq.api.wait-poll-interval}. Requests
 * run on virtual threads, so a waiting request costs no platform thread.
 */
@Component
class LongPoll {

    /** How a held request waits between looks; {@link Thread#sleep(long)} but in tests. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private final ApiProperties properties;
    /** The monotonic clock the waits are measured on, in nanoseconds ({@link System#nanoTime()} but in tests). */
    private final LongSupplier nanoTime;
    private final Sleeper sleeper;
    /** Requests being held now. */
    private final AtomicInteger waiting = new AtomicInteger();

    @Autowired
    LongPoll(ApiProperties properties, ObjectProvider<MeterRegistry> meters) {
        this(properties, meters, System::nanoTime, Thread::sleep);
    }

    /** As above, on {@code nanoTime}'s clock, waiting between looks with {@code sleeper}. */
    LongPoll(ApiProperties properties, ObjectProvider<MeterRegistry> meters, LongSupplier nanoTime, Sleeper sleeper) {
        this.properties = properties;
        this.nanoTime = nanoTime;
        this.sleeper = sleeper;
        meters.ifAvailable(registry -> Gauge.builder("fetchq.api.long.polls", waiting, AtomicInteger::get)
                .description("Requests held by wait_ms until what they read is done")
                .register(registry));
    }

    /** Requests being held now. */
    int waiting() {
        return waiting.get();
    }

    /**
     * Waits until {@code finished} says so (a cheap check, made every poll interval) or the wait
     * is up, then reads once.
     */
    <T> Optional<T> await(Long waitMs, BooleanSupplier finished, Supplier<Optional<T>> read) {
        if (waitMs != null && waitMs < 0) {
            throw ApiProblem.invalid(List.of(FieldError.atParameter("wait_ms", "must not be negative")), 1);
        }
        long wait = waitMs == null ? 0 : Math.min(waitMs, properties.maxWait().toMillis());
        long deadline = nanoTime.getAsLong() + wait * 1_000_000;
        long interval = properties.waitPollInterval().toMillis();
        if (wait > 0) {
            waiting.incrementAndGet();
            try {
                while (true) {
                    long left = (deadline - nanoTime.getAsLong()) / 1_000_000;
                    if (left <= 0 || finished.getAsBoolean()) {
                        break;
                    }
                    sleeper.sleep(Math.min(interval, left));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                waiting.decrementAndGet();
            }
        }
        return read.get();
    }
}
