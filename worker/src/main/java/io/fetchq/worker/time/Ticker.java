package io.fetchq.worker.time;

/**
 * The worker's monotonic clock, in nanoseconds, as {@link System#nanoTime()} reads it: what decides
 * when a host's pause and its breaker's open time are over. Injected so that tests can move time
 * on instead of waiting for it.
 */
@FunctionalInterface
public interface Ticker {

    /** The system's monotonic clock. */
    Ticker SYSTEM = System::nanoTime;

    /** Nanoseconds from an arbitrary origin; only differences mean anything. */
    long nanos();
}
