package io.fetchq.worker.host;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.ratelimiter.RateLimiter;

/**
 * What protects one target host: its bulkhead (concurrency), optional rate limiter, circuit
 * breaker, a pause asked for by {@code Retry-After}, and how many of its jobs this worker holds.
 */
public final class HostGuard {

    final String host;
    final int limit;
    final Bulkhead bulkhead;
    final RateLimiter rateLimiter;
    final CircuitBreaker breaker;
    /** Jobs of this host claimed by this worker and not yet written back. */
    volatile int held;
    volatile long lastUsedNanos = System.nanoTime();
    private volatile long pausedUntilNanos;
    private volatile long openUntilNanos;

    HostGuard(String host, int limit, Bulkhead bulkhead, RateLimiter rateLimiter, CircuitBreaker breaker) {
        this.host = host;
        this.limit = limit;
        this.bulkhead = bulkhead;
        this.rateLimiter = rateLimiter;
        this.breaker = breaker;
    }

    public Bulkhead bulkhead() {
        return bulkhead;
    }

    /** Null when the host has no rate limit. */
    public RateLimiter rateLimiter() {
        return rateLimiter;
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    /** Makes every fetch to this host wait {@code millis} from now (the server said Retry-After). */
    public void pauseFor(long millis) {
        long until = System.nanoTime() + millis * 1_000_000;
        if (until - pausedUntilNanos > 0) {
            pausedUntilNanos = until;
        }
    }

    /** Milliseconds the host is still paused for, 0 when it is not. */
    public long pausedForMs() {
        return Math.max(0, (pausedUntilNanos - System.nanoTime()) / 1_000_000);
    }

    void opened(long openForNanos) {
        openUntilNanos = System.nanoTime() + openForNanos;
    }

    /** Milliseconds until an open breaker lets a trial call through, 0 when it is not open. */
    public long openForMs() {
        if (breaker.getState() != CircuitBreaker.State.OPEN) {
            return 0;
        }
        return Math.max(0, (openUntilNanos - System.nanoTime()) / 1_000_000);
    }
}
