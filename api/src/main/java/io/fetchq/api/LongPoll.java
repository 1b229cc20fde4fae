package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
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

    <T> Optional<T> await(Long waitMs, Supplier<Optional<T>> read, Predicate<T> done) {
        if (waitMs != null && waitMs < 0) {
            throw ApiProblem.invalid(List.of(FieldError.atParameter("wait_ms", "must not be negative")), 1);
        }
        long wait = waitMs == null ? 0 : Math.min(waitMs, properties.maxWait().toMillis());
        long deadline = System.nanoTime() + wait * 1_000_000;
        long interval = properties.waitPollInterval().toMillis();
        while (true) {
            Optional<T> current = read.get();
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (current.isEmpty() || done.test(current.get()) || left <= 0) {
                return current;
            }
            try {
                Thread.sleep(Math.min(interval, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return current;
            }
        }
    }
}
