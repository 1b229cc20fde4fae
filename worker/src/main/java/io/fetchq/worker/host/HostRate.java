package io.fetchq.worker.host;

import io.fetchq.db.HostLedger;
import java.util.ArrayDeque;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A host's rate for the whole fleet: the ledger hands this worker slices of the host's timeline (n
 * evenly spaced instants that no other worker got), and each request waits for the next instant of
 * a slice. A slice is sized by the requests waiting here and at most a quarter of a second of the
 * rate, so that an unused instant costs the fleet little and a busy worker asks a few times a second.
 */
final class HostRate {

    /** Most of a second's rate one slice takes. */
    static final double SLICE_SECONDS = 0.25;

    /** The ledger, and this host's rate from the worker's configuration (0: none). */
    interface Source {
        HostLedger.RateSlice take(String host, double configuredRate, int n);
    }

    private final String host;
    private final Source source;
    private final ReentrantLock lock = new ReentrantLock(true);
    /** Instants (System.nanoTime) reserved and not used yet; guarded by lock. */
    private final ArrayDeque<Long> instants = new ArrayDeque<>();
    private volatile int waiting;

    HostRate(String host, Source source) {
        this.host = host;
        this.source = source;
    }

    /**
     * Waits for this worker's next instant of the host's rate; returns at once when the host has no
     * rate. Throws what the ledger throws (the database may be away): no request is made then.
     */
    void acquire(double configuredRate, double knownRate) throws InterruptedException {
        long at;
        waiting++;
        try {
            lock.lockInterruptibly();
        } finally {
            waiting--;
        }
        try {
            if (instants.isEmpty()) {
                double rate = knownRate > 0 ? knownRate : configuredRate;
                int n = (int) Math.max(1, Math.min(waiting + 1, Math.floor(Math.max(rate, 1) * SLICE_SECONDS)));
                HostLedger.RateSlice slice = source.take(host, configuredRate, n);
                if (slice.unlimited()) {
                    return;
                }
                // Counted from the answer: late by the round trip, never early.
                long asked = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    instants.add(asked + (long) ((slice.firstMs() + i * slice.intervalMs()) * 1_000_000));
                }
            }
            at = instants.poll();
        } finally {
            lock.unlock();
        }
        long wait;
        while ((wait = at - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }
}
