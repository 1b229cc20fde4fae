package io.fetchq.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** Waiting for PostgreSQL notifications on a connection of its own ({@link DbConnections#dedicated}). */
public final class Listening {

    /** How long one wait for notifications lasts: how soon a stop is noticed. */
    static final int WAIT_MS = 500;

    /**
     * How often the listening connection is asked a question: waiting for notifications alone would
     * never notice a connection that silently died (a failover), and notifications would stop
     * without anyone knowing. The question is bounded by {@code fetchq.db.socket-timeout}.
     */
    public static final Duration CHECK_EVERY = Duration.ofSeconds(10);

    private Listening() {
    }

    /**
     * Listens on {@code channel}, says so ({@code listening}: what came before may have been missed),
     * then hands the payloads of each round of notifications to {@code received} while
     * {@code running} holds. Returns when it no longer does; throws when the connection fails.
     */
    public static void listen(Connection connection, String channel, BooleanSupplier running, Runnable listening,
            Consumer<List<String>> received) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("LISTEN " + channel);
        }
        listening.run();
        PGConnection pg = connection.unwrap(PGConnection.class);
        long checked = System.nanoTime();
        while (running.getAsBoolean()) {
            if (System.nanoTime() - checked >= CHECK_EVERY.toNanos()) {
                try (Statement s = connection.createStatement()) {
                    s.execute("SELECT 1");
                }
                checked = System.nanoTime();
            }
            PGNotification[] notifications = pg.getNotifications(WAIT_MS);
            if (notifications != null && notifications.length > 0) {
                List<String> payloads = new ArrayList<>(notifications.length);
                for (PGNotification n : notifications) {
                    payloads.add(n.getParameter());
                }
                received.accept(payloads);
            }
        }
    }
}
