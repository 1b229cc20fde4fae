package io.fetchq.worker.lease;

import io.fetchq.db.QueueQueries;
import io.fetchq.worker.WorkerMetrics;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.loop.BackgroundLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every {@code fetchq.worker.rescue-interval}, as every live worker does: gives jobs whose lease
 * expired (their worker stopped renewing it) back to the queue, or ends those whose budget is spent.
 *
 * <p>Only once this worker has reached the database without a break for a whole lease (see
 * {@link DatabaseLink}): a lease that expired during an outage is not a sign that its owner died,
 * and owners renew the moment they are connected again. So after an outage of any length no live
 * worker's result is thrown away; a dead worker's jobs come back one lease later than usual.
 */
public final class Rescuer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Rescuer.class);

    /** Expired leases rescued per pass; more wait for the next one. */
    static final int RESCUE_BATCH = 1000;

    private final WorkerProperties properties;
    private final QueueQueries queue;
    private final Runnable rescued;
    private final Consumer<List<String>> finished;
    private final DatabaseLink link;
    private final BackgroundLoop loop;

    /**
     * @param rescued told when a pass gave jobs back to the queue
     * @param finished told of the {@link io.fetchq.db.Finished} keys of the jobs a pass ended
     * @param link whether this worker has been connected long enough to rescue; told of each pass
     */
    public Rescuer(WorkerProperties properties, QueueQueries queue, WorkerMetrics metrics, Runnable rescued,
            Consumer<List<String>> finished, DatabaseLink link) {
        this.properties = properties;
        this.queue = queue;
        this.rescued = rescued;
        this.finished = finished;
        this.link = link;
        this.loop = BackgroundLoop.every("rescue", "fetchq-rescuer", properties.id(),
                link.failedThen(() -> metrics.loopFailed("rescue")), properties.rescueInterval(),
                properties.rescueInterval(), this::rescue);
    }

    public void start() {
        loop.start();
    }

    private void rescue() {
        if (!link.connectedFor(properties.lease())) {
            // Owners may not have had a lease's time to renew since the database came back.
            return;
        }
        List<String> ended = new ArrayList<>();
        QueueQueries.Rescued done = queue.rescueExpired(RESCUE_BATCH, ended);
        link.succeeded();
        if (!ended.isEmpty()) {
            finished.accept(ended);
        }
        if (done.requeued() + done.ended() > 0) {
            log.info("[{}] rescued jobs with expired leases: {} back in the queue, {} ended", properties.id(),
                    done.requeued(), done.ended());
            rescued.run();
        }
    }

    @Override
    public void close() {
        loop.interrupt();
    }
}
