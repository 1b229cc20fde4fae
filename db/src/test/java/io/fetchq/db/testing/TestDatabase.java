package io.fetchq.db.testing;

import io.fetchq.embedded.EmbeddedDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL server tests run against, chosen once per JVM in this order:
 * <ol>
 *   <li>{@code FETCHQ_TEST_DB_URL} (environment or system property): a server we may create
 *       databases on, e.g. {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres};
 *   <li>Testcontainers, when a Docker engine answers;
 *   <li>an embedded PostgreSQL 17 from the binaries on the classpath.
 * </ol>
 * Each test JVM works in databases of its own, created fresh and dropped at exit, so runs never
 * see each other's rows.
 */
public final class TestDatabase {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String RUN = Long.toString(System.currentTimeMillis(), 36)
            + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);

    private static Server server;
    private static String shared;

    private TestDatabase() {
    }

    /** A server we can create databases on, with how we got it. */
    public record Server(String adminUrl, String source) {
    }

    /** The database this JVM's tests share. */
    public static synchronized String sharedUrl() {
        if (shared == null) {
            shared = newDatabase();
        }
        return shared;
    }

    /** A new, empty database on the test server; dropped when the JVM exits. */
    public static synchronized String newDatabase() {
        Server s = server();
        String name = "fetchq_test_" + RUN + "_" + COUNTER.incrementAndGet();
        execute(s.adminUrl(), "CREATE DATABASE " + name);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                execute(s.adminUrl(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (RuntimeException ignored) {
                // the server may already be gone (embedded one stopping too)
            }
        }));
        return withDatabase(s.adminUrl(), name);
    }

    public static synchronized Server server() {
        if (server == null) {
            server = startServer();
            System.out.println("fetchq tests use PostgreSQL from " + server.source());
        }
        return server;
    }

    private static Server startServer() {
        String url = System.getProperty("fetchq.test.db-url", System.getenv("FETCHQ_TEST_DB_URL"));
        if (url != null && !url.isBlank()) {
            return new Server(url, "FETCHQ_TEST_DB_URL (" + url + ")");
        }
        if (dockerAvailable()) {
            PostgreSQLContainer container = new PostgreSQLContainer("postgres:17-alpine");
            container.start();
            String admin = container.getJdbcUrl() + (container.getJdbcUrl().contains("?") ? "&" : "?")
                    + "user=" + container.getUsername() + "&password=" + container.getPassword();
            return new Server(admin, "Testcontainers (postgres:17-alpine)");
        }
        EmbeddedDatabase embedded = EmbeddedDatabase.start(null, 0);
        Runtime.getRuntime().addShutdownHook(new Thread(embedded::close));
        return new Server(embedded.jdbcUrl(), "embedded PostgreSQL 17 on port " + embedded.port());
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    /** Replaces the database name in a {@code jdbc:postgresql://host:port/name?params} URL. */
    static String withDatabase(String url, String name) {
        int hostStart = url.indexOf("//") + 2;
        int slash = url.indexOf('/', hostStart);
        int query = url.indexOf('?', hostStart);
        String base = url.substring(0, slash < 0 || (query >= 0 && query < slash) ? (query < 0 ? url.length() : query) : slash);
        String params = query < 0 ? "" : url.substring(query);
        return base + "/" + name + params;
    }

    public static void execute(String url, String sql) {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("could not run on " + url + ": " + sql, e);
        }
    }
}
