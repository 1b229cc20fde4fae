package io.fetchq.worker.attempt;

import io.fetchq.db.ClaimedJob;
import io.fetchq.worker.fetch.BodyBudget;
import io.fetchq.worker.fetch.FetchCancellation;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One claim from its claim to its write-back: the attempt it is making now, whether a request of
 * that attempt may have been sent, the handle that cancels the fetch, and whether its outcome went
 * to the completer — exactly once, by whichever of its fetch thread and a shutdown gets there first.
 *
 * <p>Each claim is an object of its own, never looked up by job id: a worker may claim a job again
 * (its older claim rescued after a stall) while the older claim's fetch is still running, and the
 * two must never be mistaken for each other.
 */
final class Held {
    volatile ClaimedJob job;
    volatile boolean sent;
    final FetchCancellation cancellation = new FetchCancellation();
    private final AtomicBoolean handedOver = new AtomicBoolean();
    /** The memory of the body its result keeps, released once the result is written. */
    private volatile BodyBudget.Reservation memory;

    Held(ClaimedJob job) {
        this.job = job;
    }

    /** True for the one caller that hands this claim's outcome over. */
    boolean handOver() {
        return handedOver.compareAndSet(false, true);
    }

    boolean handedOver() {
        return handedOver.get();
    }

    void keep(BodyBudget.Reservation memory) {
        this.memory = memory;
    }

    void releaseMemory() {
        BodyBudget.Reservation m = memory;
        if (m != null) {
            m.release();
        }
    }
}
