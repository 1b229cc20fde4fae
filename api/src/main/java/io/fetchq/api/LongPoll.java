package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import io.fetchq.db.Notifier;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * {@code ?wait_ms=N}: holds a request until what it reads is done or N ms pass (capped at
 * {@code fetchq.api.max-wait}). A held request looks again when a "jobs finished" notification
 * names what it waits for ({@link FinishedListener}), not on a timer: with a thousand clients
 * waiting, the database is asked once per notification that concerns each of them, not a thousand
 * times a poll interval. As notifications are hints, a request also looks every
 * {@code fetchq.api.wait-poll-interval}, and every {@link #WITHOUT_NOTIFICATIONS} while they do not
 * arrive (the listening connection is down). Requests run on virtual threads, so a held request
 * costs no platform thread.
 */
@Component
class LongPoll {

    /** How often a held request looks while notifications do not arrive. */
    static final long WITHOUT_NOTIFICATIONS = 200;

    /** How a held request waits between looks: until {@code wake} is released or the time is up. */
    @FunctionalInterface
    interface Pause {
        void pause(Semaphore wake, long millis) throws InterruptedException;
    }

    private final ApiProperties properties;
    /** The monotonic clock the waits are measured on, in nanoseconds ({@link System#nanoTime()} but in tests). */
    private final LongSupplier nanoTime;
    private final Pause pause;
    /** Requests being held now. */
    private final AtomicInteger waiting = new AtomicInteger();
    /** The held requests by what they wait for: a batch's or a job's {@link io.fetchq.db.Finished} key. */
    private final Map<String, Set<Semaphore>> waiters = new ConcurrentHashMap<>();
    private volatile boolean notified;

    @Autowired
    LongPoll(ApiProperties properties, ObjectProvider<MeterRegistry> meters) {
        this(properties, meters, System::nanoTime, (wake, millis) -> {
            if (wake.tryAcquire(millis, TimeUnit.MILLISECONDS)) {
                wake.drainPermits();
            }
        });
    }

    /** As above, on {@code nanoTime}'s clock, waiting between looks with {@code pause}. */
    LongPoll(ApiProperties properties, ObjectProvider<MeterRegistry> meters, LongSupplier nanoTime, Pause pause) {
        this.properties = properties;
        this.nanoTime = nanoTime;
        this.pause = pause;
        meters.ifAvailable(registry -> Gauge.builder("fetchq.api.long.polls", waiting, AtomicInteger::get)
                .description("Requests held by wait_ms until what they read is done")
                .register(registry));
    }

    /** Requests being held now. */
    int waiting() {
        return waiting.get();
    }

    /** Whether "jobs finished" notifications arrive now. */
    boolean notificationsArrive() {
        return notified;
    }

    /** Whether "jobs finished" notifications arrive now: held requests then look only when told (or seldom). */
    void notificationsArrive(boolean arrive) {
        this.notified = arrive;
        if (!arrive) {
            // Held requests may be in a long pause: they should look at the shorter interval from now on.
            wakeAll();
        }
    }

    /** What finished ({@link io.fetchq.db.Finished} keys, or {@link Notifier#ANYTHING}): the requests waiting for it look again. */
    void finished(Collection<String> keys) {
        for (String key : keys) {
            if (Notifier.ANYTHING.equals(key)) {
                wakeAll();
                return;
            }
            Set<Semaphore> held = waiters.get(key);
            if (held != null) {
                held.forEach(Semaphore::release);
            }
        }
    }

    private void wakeAll() {
        waiters.values().forEach(held -> held.forEach(Semaphore::release));
    }

    /**
     * Waits until {@code finished} says so (a cheap check, made when a notification names
     * {@code key}, and at least every poll interval) or the wait is up, then reads once.
     */
    <T> Optional<T> await(Long waitMs, String key, BooleanSupplier finished, Supplier<Optional<T>> read) {
        if (waitMs != null && waitMs < 0) {
            throw ApiProblem.invalid(List.of(FieldError.atParameter("wait_ms", "must not be negative")), 1);
        }
        long wait = waitMs == null ? 0 : Math.min(waitMs, properties.maxWait().toMillis());
        long deadline = nanoTime.getAsLong() + wait * 1_000_000;
        if (wait > 0) {
            Semaphore wake = new Semaphore(0);
            // Added and removed under the key's lock, so that a set emptied by one request is never
            // the one another request joins.
            waiters.compute(key, (k, held) -> {
                Set<Semaphore> set = held == null ? ConcurrentHashMap.newKeySet() : held;
                set.add(wake);
                return set;
            });
            waiting.incrementAndGet();
            try {
                while (true) {
                    long left = (deadline - nanoTime.getAsLong()) / 1_000_000;
                    if (left <= 0 || finished.getAsBoolean()) {
                        break;
                    }
                    pause.pause(wake, Math.min(interval(), left));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                waiting.decrementAndGet();
                waiters.computeIfPresent(key, (k, held) -> {
                    held.remove(wake);
                    return held.isEmpty() ? null : held;
                });
            }
        }
        return read.get();
    }

    private long interval() {
        long interval = properties.waitPollInterval().toMillis();
        return notified ? interval : Math.min(interval, WITHOUT_NOTIFICATIONS);
    }
}
