package io.fetchq.api.security;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Optional;

/**
 * Each caller's submission rate limit ({@code fetchq.security.submit-rate-limit} requests per
 * {@code submit-rate-period}): one Resilience4j rate limiter per caller, never waiting, so a caller
 * over its limit is told at once how long to wait.
 */
public class SubmissionRateLimits {

    private final RateLimiterRegistry registry;
    private final boolean enabled;
    private final Duration period;

    public SubmissionRateLimits(SecurityProperties properties) {
        this.enabled = properties.submitRateLimit() > 0;
        this.period = properties.submitRatePeriod();
        this.registry = RateLimiterRegistry.of(RateLimiterConfig.custom()
                .limitForPeriod(Math.max(1, properties.submitRateLimit()))
                .limitRefreshPeriod(period)
                .timeoutDuration(Duration.ZERO)
                .build());
    }

    /** Takes a permit for the caller; empty when it got one, else how long until the next. */
    public Optional<Duration> acquire(Caller caller) {
        if (!enabled) {
            return Optional.empty();
        }
        RateLimiter limiter = registry.rateLimiter(caller.id());
        if (limiter.acquirePermission()) {
            return Optional.empty();
        }
        long nanos = limiter instanceof AtomicRateLimiter atomic
                ? atomic.getDetailedMetrics().getNanosToWait()
                : period.toNanos();
        return Optional.of(Duration.ofNanos(Math.max(nanos, 1)));
    }
}
