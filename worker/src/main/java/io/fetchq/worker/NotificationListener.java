package io.fetchq.worker;

import io.fetchq.db.JobQueries;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.Supplier;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens on a dedicated connection for the API's "new jobs" notifications and wakes the worker,
 * so that a job is picked up at once rather than at the next poll. A hint only: the poll interval
 * still guarantees pickup if a notification is lost. Reconnects when the connection drops.
 */
final class NotificationListener implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NotificationListener.class);
    private static final int WAIT_MS = 500;

    private final Supplier<Connection> connections;
    private final Runnable wake;
    private final String workerId;
    private final Thread thread;
    private volatile boolean running = true;

    NotificationListener(Supplier<Connection> connections, Runnable wake, String workerId) {
        this.connections = connections;
        this.wake = wake;
        this.workerId = workerId;
        this.thread = Thread.ofPlatform().name("fetchq-listener").daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    private void run() {
        long backoff = 100;
        while (running) {
            try (Connection connection = connections.get()) {
                try (Statement s = connection.createStatement()) {
                    s.execute("LISTEN " + JobQueries.NOTIFY_CHANNEL);
                }
                backoff = 100;
                // Jobs may have arrived while we were not listening.
                wake.run();
                PGConnection pg = connection.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] notifications = pg.getNotifications(WAIT_MS);
                    if (notifications != null && notifications.length > 0) {
                        wake.run();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    return;
                }
                log.warn("[{}] notification listener lost its connection, reconnecting in {} ms: {}", workerId,
                        backoff, e.toString());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoff = Math.min(10_000, backoff * 2);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
