package io.fetchq.worker.fetch;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker's memory for response bodies, in bytes ({@code fetchq.worker.max-body-memory}): a body
 * larger than {@link #UNRESERVED} is read only once its bytes are reserved here, and they stay
 * reserved until the body is no longer held (its result written, or the attempt's body dropped).
 * A fetch that finds the budget spent waits for it, in the order fetches asked, instead of the
 * worker running out of heap; the wait counts toward the job's {@code timeout_ms}.
 *
 * <p>Why this cannot deadlock: a fetch reserves once, for its whole body, while holding nothing of
 * the budget; and whoever holds budget only reads from its server (bounded by the attempt's
 * timeouts) or waits for its result to be written. Bodies up to {@link #UNRESERVED} bytes are read
 * without asking, so small pages never wait; they cost at most {@code max-in-flight} × that much.
 */
public final class BodyBudget {

    /** Bodies up to this size are read without a reservation. */
    public static final int UNRESERVED = 64 * 1024;

    /** A budget that never makes anyone wait: for fetchers outside a worker (tests, tools). */
    public static BodyBudget unlimited() {
        return new BodyBudget(Long.MAX_VALUE);
    }

    /** Bytes reserved for one body; released once, by whoever holds the body last. */
    public final class Reservation {
        private long bytes;

        private Reservation(long bytes) {
            this.bytes = bytes;
        }

        /** Gives back what the body did not need: it turned out {@code needed} bytes long. */
        public void shrinkTo(long needed) {
            long back;
            synchronized (this) {
                back = Math.max(0, bytes - needed);
                bytes -= back;
            }
            giveBack(back);
        }

        /** Gives everything back; later calls do nothing. */
        public void release() {
            long back;
            synchronized (this) {
                back = bytes;
                bytes = 0;
            }
            giveBack(back);
        }

        public synchronized long bytes() {
            return bytes;
        }
    }

    private final long capacity;
    private final Reservation none = new Reservation(0);
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Fetches waiting, first come first served: a large body is not passed over forever by small ones. */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private long available;
    private long waits;

    public BodyBudget(long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("a body budget must be positive");
        }
        this.capacity = capacity;
        this.available = capacity;
    }

    /** A reservation of nothing: what a body of at most {@link #UNRESERVED} bytes holds. */
    public Reservation none() {
        return none;
    }

    /**
     * Reserves {@code bytes} (at most the whole budget: a body larger than the budget waits until it
     * has all of it), waiting for earlier fetches and for enough to be free.
     *
     * @throws InterruptedException when the fetch is stopped while it waits; nothing is reserved then
     */
    public Reservation reserve(long bytes) throws InterruptedException {
        long want = Math.min(Math.max(0, bytes), capacity);
        Object ticket = new Object();
        lock.lockInterruptibly();
        try {
            waiting.add(ticket);
            boolean waited = false;
            try {
                while (waiting.peek() != ticket || available < want) {
                    waited = true;
                    changed.await();
                }
            } finally {
                waiting.remove(ticket);
                // The next in line may go ahead now (or, if this one gave up, instead of it).
                changed.signalAll();
            }
            if (waited) {
                waits++;
            }
            available -= want;
            return new Reservation(want);
        } finally {
            lock.unlock();
        }
    }

    private void giveBack(long bytes) {
        if (bytes <= 0) {
            return;
        }
        lock.lock();
        try {
            available += bytes;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public long capacity() {
        return capacity;
    }

    /** Bytes reserved now. */
    public long inUse() {
        lock.lock();
        try {
            return capacity - available;
        } finally {
            lock.unlock();
        }
    }

    /** Fetches waiting for memory now. */
    public int queued() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /** Reservations that had to wait, since the start. */
    public long waits() {
        lock.lock();
        try {
            return waits;
        } finally {
            lock.unlock();
        }
    }
}
