package io.fetchq.worker.host;

import io.fetchq.worker.time.Ticker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 *
 * <p>Taking and giving back a slot is one compare-and-set while slots are free; only a fetch that
 * must wait takes the lock.
 */
final class HostSlots {

    private final Ticker ticker;
    private final AtomicInteger inUse = new AtomicInteger();
    private volatile int granted;
    private volatile long liveUntilNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final AtomicInteger waiting = new AtomicInteger();

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
        if (tryTake()) {
            return true;
        }
        long waitNanos = maxWait.toNanos();
        waiting.incrementAndGet();
        lock.lock();
        try {
            while (!tryTake()) {
                if (waitNanos <= 0) {
                    return false;
                }
                // Wakes at least every 100 ms: the grant's life is on the ticker, not a signal.
                long before = System.nanoTime();
                changed.await(Math.min(waitNanos, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS);
                waitNanos -= System.nanoTime() - before;
            }
            return true;
        } finally {
            lock.unlock();
            waiting.decrementAndGet();
        }
    }

    private boolean tryTake() {
        if (ticker.nanos() - liveUntilNanos >= 0) {
            return false;
        }
        for (int used = inUse.get(); used < granted; used = inUse.get()) {
            if (inUse.compareAndSet(used, used + 1)) {
                return true;
            }
        }
        return false;
    }

    /** A fetch that held a slot ended. */
    void release() {
        inUse.decrementAndGet();
        signal(false);
    }

    /**
     * The ledger granted {@code slots} in a statement that started at {@code askedAtNanos}: they are
     * this worker's until a lease after that.
     */
    void granted(int slots, long askedAtNanos, Duration lease) {
        granted = slots;
        liveUntilNanos = askedAtNanos + lease.toNanos();
        signal(true);
    }

    private void signal(boolean all) {
        if (waiting.get() == 0) {
            return;
        }
        lock.lock();
        try {
            if (all) {
                changed.signalAll();
            } else {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Slots granted now. */
    int granted() {
        return granted;
    }

    /** Fetches holding a slot now. */
    int inUse() {
        return inUse.get();
    }

    /** What the ledger must keep holding for this worker: its grant, or more while fetches above it end. */
    int held() {
        return Math.max(granted, inUse.get());
    }

    /** Nanoseconds (on the ticker) until the grant must be renewed, negative once it may have lapsed. */
    long liveForNanos() {
        return liveUntilNanos - ticker.nanos();
    }
}
