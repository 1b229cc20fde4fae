package io.fetchq.worker;

import io.fetchq.db.JobQueries;
import io.fetchq.db.Listening;
import io.fetchq.worker.loop.BackgroundLoop;
import java.sql.Connection;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Listens on a dedicated connection for the API's "new jobs" notifications and wakes the worker,
 * so that a job is picked up at once rather than at the next poll. A hint only: the poll interval
 * still guarantees pickup if a notification is lost. A pass holds one connection until it drops;
 * the loop then reconnects with backoff.
 */
final class NotificationListener implements AutoCloseable {

    private final Supplier<Connection> connections;
    private final Runnable wake;
    private final BackgroundLoop loop;

    NotificationListener(Supplier<Connection> connections, Runnable wake, String workerId, WorkerMetrics metrics) {
        this.connections = connections;
        this.wake = wake;
        this.loop = BackgroundLoop.continuous("listen", "fetchq-listener", workerId, () -> metrics.loopFailed("listen"),
                this::listen);
    }

    void start() {
        loop.start();
    }

    private void listen() throws Exception {
        try (Connection connection = connections.get()) {
            // Jobs may have arrived while we were not listening: wake once listening.
            Listening.listen(connection, JobQueries.NOTIFY_CHANNEL, loop::running, wake, payloads -> wake.run());
        }
    }

    @Override
    public void close() {
        loop.close(Duration.ofSeconds(2));
    }
}
