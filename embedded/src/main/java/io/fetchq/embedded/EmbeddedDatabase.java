package io.fetchq.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A PostgreSQL server run from the binaries on the classpath (PostgreSQL 17), for running fetchq
 * with nothing installed and for tests on machines without a database. It listens on loopback
 * only. With a data directory it keeps its data between runs; without one it uses a temporary
 * directory removed at close.
 */
public final class EmbeddedDatabase implements Closeable {

    private final EmbeddedPostgres postgres;

    private EmbeddedDatabase(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /**
     * Starts a server that also stops when the JVM exits. {@code dataDirectory} null means a
     * throw-away directory; {@code port} 0 means any free port.
     */
    public static EmbeddedDatabase start(Path dataDirectory, int port) {
        return start(dataDirectory, port, true);
    }

    /**
     * Starts a server. With {@code stopAtJvmExit} false, only {@link #close} stops it: for an owner
     * that must stop it last, after everything that writes to it has shut down (a JVM shutdown
     * hook of its own would race the owner's graceful shutdown and stop it first).
     */
    public static EmbeddedDatabase start(Path dataDirectory, int port, boolean stopAtJvmExit) {
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setRegisterShutdownHook(stopAtJvmExit)
                    .setServerConfig("listen_addresses", "localhost")
                    .setServerConfig("max_connections", "200")
                    .setPGStartupWait(Duration.ofSeconds(60));
            if (dataDirectory != null) {
                Files.createDirectories(dataDirectory);
                builder.setDataDirectory(dataDirectory).setCleanDataDirectory(false);
            }
            if (port != 0) {
                builder.setPort(port);
            }
            return new EmbeddedDatabase(builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL", e);
        }
    }

    /** JDBC URL of database {@code postgres} as user {@code postgres} (trust authentication). */
    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres?user=postgres";
    }

    public int port() {
        return postgres.getPort();
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
