package io.fetchq.worker.lease;

import io.fetchq.worker.time.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Whether this worker has reached the database without a break, and since when: what makes rescue
 * safe after an outage.
 *
 * <p>A lease that expired while the database was down says nothing about its owner: no owner could
 * renew. So a rescuer rescues only once it has itself been connected for a whole lease, and an owner
 * renews its leases the moment it is connected again: every live owner then had a lease's time to
 * renew before anyone may take its jobs. The worker's parts report what their statements did: a
 * failure (any: conservative, it only delays rescue) starts the clock over at the next success, and
 * the first success after a failure tells the listeners (the heartbeat renews at once).
 */
public final class DatabaseLink {

    private static final long DOWN = Long.MIN_VALUE;

    private final Ticker ticker;
    private final List<Runnable> onReconnect = new CopyOnWriteArrayList<>();
    /** {@link Ticker} time of the first success after the last failure, or {@link #DOWN}. */
    private volatile long connectedSince = DOWN;

    public DatabaseLink(Ticker ticker) {
        this.ticker = ticker;
    }

    /** Runs {@code action} at the first success after a failure (and at the first success of all). */
    public void onReconnect(Runnable action) {
        onReconnect.add(action);
    }

    /** A statement reached the database. */
    public void succeeded() {
        if (connectedSince == DOWN) {
            boolean first;
            synchronized (this) {
                first = connectedSince == DOWN;
                if (first) {
                    connectedSince = ticker.nanos();
                }
            }
            if (first) {
                onReconnect.forEach(Runnable::run);
            }
        }
    }

    /** A statement failed: the time connected starts over at the next success. */
    public void failed() {
        connectedSince = DOWN;
    }

    /** What a database loop's failed pass should do: {@link #failed}, then {@code counted}. */
    public Runnable failedThen(Runnable counted) {
        return () -> {
            failed();
            counted.run();
        };
    }

    /** Whether every statement since at least {@code period} ago reached the database. */
    public boolean connectedFor(Duration period) {
        long since = connectedSince;
        return since != DOWN && ticker.nanos() - since >= period.toNanos();
    }
}
