package io.fetchq.worker.lease;

import io.fetchq.db.QueueQueries;
import io.fetchq.worker.WorkerMetrics;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.loop.BackgroundLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every {@code fetchq.worker.rescue-interval}, as every live worker does: gives jobs whose lease
 * expired (their worker stopped renewing it) back to the queue, or ends those whose budget is spent.
 */
public final class Rescuer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Rescuer.class);

    /** Expired leases rescued per pass; more wait for the next one. */
    static final int RESCUE_BATCH = 1000;

    private final WorkerProperties properties;
    private final QueueQueries queue;
    private final Runnable rescued;
    private final BackgroundLoop loop;

    /** @param rescued told when a pass gave jobs back to the queue */
    public Rescuer(WorkerProperties properties, QueueQueries queue, WorkerMetrics metrics, Runnable rescued) {
        this.properties = properties;
        this.queue = queue;
        this.rescued = rescued;
        this.loop = BackgroundLoop.every("rescue", "fetchq-rescuer", properties.id(), () -> metrics.loopFailed("rescue"),
                properties.rescueInterval(), properties.rescueInterval(), this::rescue);
    }

    public void start() {
        loop.start();
    }

    private void rescue() {
        QueueQueries.Rescued done = queue.rescueExpired(RESCUE_BATCH);
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
