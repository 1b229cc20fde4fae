package io.fetchq.worker;

import io.fetchq.db.JobQueries;
import io.fetchq.worker.loop.BackgroundLoop;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.Supplier;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Listens on a dedicated connection for the API's "new jobs" notifications and wakes the worker,
 * so that a job is picked up at once rather than at the next poll. A hint only: the poll interval
 * still guarantees pickup if a notification is lost. A pass holds one connection until it drops;
 * the loop then reconnects with backoff.
 */
final class NotificationListener implements AutoCloseable {

    private static final int WAIT_MS = 500;

    /**
     * How often the listening connection is asked a question: waiting for notifications alone
     * would never notice a connection that silently died (a failover), and the worker would go
     * without them until the next reconnection. The question is bounded by {@code fetchq.db.socket-timeout}.
     */
    static final Duration CHECK_EVERY = Duration.ofSeconds(10);

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
            try (Statement s = connection.createStatement()) {
                s.execute("LISTEN " + JobQueries.NOTIFY_CHANNEL);
            }
            // Jobs may have arrived while we were not listening.
            wake.run();
            PGConnection pg = connection.unwrap(PGConnection.class);
            long checked = System.nanoTime();
            while (loop.running()) {
                if (System.nanoTime() - checked >= CHECK_EVERY.toNanos()) {
                    try (Statement s = connection.createStatement()) {
                        s.execute("SELECT 1");
                    }
                    checked = System.nanoTime();
                }
                PGNotification[] notifications = pg.getNotifications(WAIT_MS);
                if (notifications != null && notifications.length > 0) {
                    wake.run();
                }
            }
        }
    }

    @Override
    public void close() {
        loop.close(Duration.ofSeconds(2));
    }
}
