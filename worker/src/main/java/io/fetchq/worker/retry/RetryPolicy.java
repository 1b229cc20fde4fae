package io.fetchq.worker.retry;

import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.fetch.ErrorKind;
import io.fetchq.worker.fetch.FetchOutcome;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides what an attempt's outcome means for the job: done, try again after a delay, or give up.
 * Only transient failures retry: the statuses servers use for "not now" and IO errors. A response
 * of any other status is a result, 404 included.
 */
public final class RetryPolicy {

    /** Statuses that mean "try again later" (Scrapy's list plus Cloudflare's 522 and 524). */
    public static final Set<Integer> RETRYABLE_STATUSES = Set.of(408, 425, 429, 500, 502, 503, 504, 522, 524);

    /** Failures worth another attempt; the others (blocked, TLS, protocol, redirects) will not change. */
    static final Set<ErrorKind> RETRYABLE_FAILURES = Set.of(ErrorKind.DNS, ErrorKind.CONNECT, ErrorKind.TIMEOUT,
            ErrorKind.RESET);

    private static final double JITTER = 0.2;

    /** What to do with a job after an attempt. */
    public sealed interface Decision {
        /** The job is final: {@code completed} (a response) or {@code failed}. */
        record Final(String state, ErrorKind errorKind, String errorMessage) implements Decision {
        }

        /** Try again after {@code delayMs}; {@code hostPauseMs} > 0 when the server asked the whole host to wait. */
        record Retry(long delayMs, long hostPauseMs, ErrorKind errorKind, String errorMessage) implements Decision {
        }
    }

    private final WorkerProperties properties;

    public RetryPolicy(WorkerProperties properties) {
        this.properties = properties;
    }

    /**
     * @param attemptInBudget 1 for the first attempt of the current budget
     * @param attemptsLeft whether the budget allows another attempt
     */
    public Decision decide(FetchOutcome outcome, int attemptInBudget, boolean attemptsLeft) {
        return switch (outcome) {
            case FetchOutcome.Response r when RETRYABLE_STATUSES.contains(r.status()) -> {
                String message = "HTTP " + r.status();
                if (!attemptsLeft) {
                    yield new Decision.Final("failed", ErrorKind.HTTP_STATUS, message);
                }
                if (r.retryAfterMs() != null) {
                    // The server's wait, capped; never less than our own backoff: "Retry-After: 0"
                    // or a date in the past is no reason to hammer a server that just refused.
                    long asked = Math.min(r.retryAfterMs(), properties.retryAfterCap().toMillis());
                    long wait = Math.max(asked, backoffMs(attemptInBudget));
                    yield new Decision.Retry(wait, asked, ErrorKind.HTTP_STATUS, message + ", Retry-After " + asked + " ms");
                }
                yield new Decision.Retry(backoffMs(attemptInBudget), 0, ErrorKind.HTTP_STATUS, message);
            }
            case FetchOutcome.Response r -> new Decision.Final("completed", null, null);
            case FetchOutcome.Failure f when RETRYABLE_FAILURES.contains(f.kind()) && attemptsLeft ->
                    new Decision.Retry(backoffMs(attemptInBudget), 0, f.kind(), f.message());
            case FetchOutcome.Failure f -> new Decision.Final("failed", f.kind(), f.message());
        };
    }

    /** {@code min(cap, base * 2^(attempt-1))}, ±20 % so that retries of many jobs spread out. */
    public long backoffMs(int attempt) {
        double exponential = properties.retryBase().toMillis() * Math.pow(2, Math.max(0, attempt - 1));
        double capped = Math.min(properties.retryCap().toMillis(), exponential);
        double jitter = 1 + (ThreadLocalRandom.current().nextDouble() * 2 - 1) * JITTER;
        return Math.max(1, Math.round(capped * jitter));
    }
}
