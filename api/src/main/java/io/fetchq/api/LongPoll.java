package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.springframework.stereotype.Component;

/**
 * {@code ?wait_ms=N}: holds a request until what it reads is done or N ms pass (capped at
 * {@code fetchq.api.max-wait}), looking again every {@code fetchq.api.wait-poll-interval}. Requests
 * run on virtual threads, so a waiting request costs no platform thread.
 */
@Component
class LongPoll {

    private final ApiProperties properties;

    LongPoll(ApiProperties properties) {
        this.properties = properties;
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
        long deadline = System.nanoTime() + wait * 1_000_000;
        long interval = properties.waitPollInterval().toMillis();
        while (wait > 0) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0 || finished.getAsBoolean()) {
                break;
            }
            try {
                Thread.sleep(Math.min(interval, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return read.get();
    }
}
