package io.fetchq.worker.host;

import io.fetchq.worker.time.Ticker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * This worker's share of a host's fleet-wide limit on requests in flight: a fetch starts only with
 * one of the slots the ledger granted, and only while the grant is known to be live (renewed less
 * than a lease ago by this process's clock; past that another worker may hold the slots).
 *
 * <p>The ledger always holds at least {@link #held()} slots for this worker: a grant grows the
 * local count only after the ledger committed it, and a smaller grant lowers it at once while the
 * ledger keeps covering the fetches still in flight until the next renewal reports them ended.
 */
final class HostSlots {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Ticker ticker;
    private int granted;
    private int inUse;
    private long liveUntilNanos;

    HostSlots(Ticker ticker) {
        this.ticker = ticker;
        this.liveUntilNanos = ticker.nanos();
    }

    /**
     * Takes a slot, waiting up to {@code maxWait} for one (a grant, a fetch ending, a renewal).
     *
     * @return false when none came in time
     * @throws InterruptedException when interrupted while waiting (a shutdown)
     */
    boolean acquire(Duration maxWait) throws InterruptedException {
        long waitNanos = maxWait.toNanos();
        lock.lock();
        try {
            while (inUse >= granted || ticker.nanos() - liveUntilNanos >= 0) {
                if (waitNanos <= 0) {
                    return false;
                }
                // Wakes at least every 100 ms: the grant's life is on the ticker, not a signal.
                long before = System.nanoTime();
                changed.await(Math.min(waitNanos, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS);
                waitNanos -= System.nanoTime() - before;
            }
            inUse++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** A fetch that held a slot ended. */
    void release() {
        lock.lock();
        try {
            inUse--;
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The ledger granted {@code slots} in a statement that started at {@code askedAtNanos}: they are
     * this worker's until a lease after that.
     */
    void granted(int slots, long askedAtNanos, Duration lease) {
        lock.lock();
        try {
            granted = slots;
            liveUntilNanos = askedAtNanos + lease.toNanos();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Slots granted now. */
    int granted() {
        lock.lock();
        try {
            return granted;
        } finally {
            lock.unlock();
        }
    }

    /** Fetches holding a slot now. */
    int inUse() {
        lock.lock();
        try {
            return inUse;
        } finally {
            lock.unlock();
        }
    }

    /** What the ledger must keep holding for this worker: its grant, or more while fetches above it end. */
    int held() {
        lock.lock();
        try {
            return Math.max(granted, inUse);
        } finally {
            lock.unlock();
        }
    }

    /** Nanoseconds (on the ticker) until the grant must be renewed, negative once it may have lapsed. */
    long liveForNanos() {
        lock.lock();
        try {
            return liveUntilNanos - ticker.nanos();
        } finally {
            lock.unlock();
        }
    }
}
