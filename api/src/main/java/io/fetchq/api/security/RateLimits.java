package io.fetchq.api.security;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Optional;

/**
 * One kind of each caller's rate limit ({@code limit} requests per {@code period}: submits, or
 * reads): one Resilience4j rate limiter per caller, never waiting, so a caller over its limit is
 * told at once how long to wait.
 */
public class RateLimits {

    private final RateLimiterRegistry registry;
    private final boolean enabled;
    private final Duration period;
    private final String setting;

    /**
     * @param limit requests per period, 0 for no limit
     * @param setting the setting that sets {@code limit}, named to a caller over it
     */
    public RateLimits(int limit, Duration period, String setting) {
        this.enabled = limit > 0;
        this.period = period;
        this.setting = setting;
        this.registry = RateLimiterRegistry.of(RateLimiterConfig.custom()
                .limitForPeriod(Math.max(1, limit))
                .limitRefreshPeriod(period)
                .timeoutDuration(Duration.ZERO)
                .build());
    }

    /** The callers' submit limit ({@code fetchq.security.submit-rate-limit}). */
    public static RateLimits submits(SecurityProperties properties) {
        return new RateLimits(properties.submitRateLimit(), properties.submitRatePeriod(),
                "fetchq.security.submit-rate-limit");
    }

    /** The callers' read limit ({@code fetchq.security.read-rate-limit}). */
    public static RateLimits reads(SecurityProperties properties) {
        return new RateLimits(properties.readRateLimit(), properties.readRatePeriod(), "fetchq.security.read-rate-limit");
    }

    /** The setting that sets this limit. */
    public String setting() {
        return setting;
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
