package io.fetchq.db;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.Properties;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Bounds on every wait for the database, for the API and the workers. Every field is
 * {@code fetchq.db.*}. They are set on the JDBC driver of the application's pool (and of a worker's
 * LISTEN connection); migrations run on connections of their own without them, since building an
 * index over a long history may take longer than any statement should.
 *
 * @param socketTimeout longest the driver waits for the database to answer before it gives the
 *     connection up as dead (a half-open connection after a failover or a network cut would
 *     otherwise block its user for the operating system's ~15 minutes). Default 60s; keep it above
 *     {@code statement-timeout}, so that a slow statement is ended by the server first. Whole seconds; 0: none.
 * @param statementTimeout longest any statement may run on the server. Default 30s: the longest
 *     statements (a 5,000-job chunk of a batch, a results write) take well under a second. 0: none.
 * @param tcpKeepAlive TCP keep-alive on database connections, so that the operating system notices a
 *     peer that vanished from an idle connection. Default true.
 * @param readTimeout longest a read of the REST API (a job, a batch, a listing, an export page,
 *     stats) may run; past it the request answers 503. Default 10s: reads are index lookups, and a
 *     read that takes longer is a problem to surface, not to wait out. Whole seconds; 0: none.
 * @param notifyInterval the "new jobs" notifications the API sends workers (and the "jobs finished"
 *     ones workers send waiting API requests) go after the commit, at most one per this interval per
 *     process and channel. Default 10ms: a quiet system notifies at once, a busy one sends one
 *     notification for many commits instead of serialising every commit on PostgreSQL's notify lock.
 * @param analyzeAfterJobs a batch of at least this many jobs has the queue's statistics taken again
 *     ({@code ANALYZE fetchq.queue}, in the background) once it is committed, so that claims are not
 *     planned on statistics taken while the queue was small until autovacuum gets to it. Default
 *     10,000; 0: never.
 */
@Validated
@ConfigurationProperties("fetchq.db")
public record DbProperties(
        @DefaultValue("60s") @NotNull Duration socketTimeout,
        @DefaultValue("30s") @NotNull Duration statementTimeout,
        @DefaultValue("true") boolean tcpKeepAlive,
        @DefaultValue("10s") @NotNull Duration readTimeout,
        @DefaultValue("10ms") @NotNull Duration notifyInterval,
        @DefaultValue("10000") @Min(0) int analyzeAfterJobs) {

    /** The defaults, for code that runs outside Spring (tests, the benchmark). */
    public static final DbProperties DEFAULTS = new DbProperties(Duration.ofSeconds(60), Duration.ofSeconds(30), true,
            Duration.ofSeconds(10), Duration.ofMillis(10), 10_000);

    public DbProperties {
        wholeSeconds("fetchq.db.socket-timeout", socketTimeout);
        wholeSeconds("fetchq.db.read-timeout", readTimeout);
        if (notifyInterval != null && notifyInterval.isNegative()) {
            throw new IllegalArgumentException("fetchq.db.notify-interval must not be negative");
        }
        if (statementTimeout != null && statementTimeout.isNegative()) {
            throw new IllegalArgumentException("fetchq.db.statement-timeout must not be negative");
        }
        if (socketTimeout != null && statementTimeout != null && !socketTimeout.isZero()
                && (statementTimeout.isZero() || statementTimeout.compareTo(socketTimeout) >= 0)) {
            throw new IllegalArgumentException("fetchq.db.statement-timeout must be shorter than fetchq.db.socket-timeout"
                    + " (a slow statement is ended by the server, a dead connection by the socket timeout)");
        }
    }

    /**
     * The PostgreSQL driver's connection properties that carry these bounds ({@code socketTimeout},
     * {@code tcpKeepAlive}, and {@code statement_timeout} in {@code options}).
     */
    public Properties driverProperties() {
        Properties p = new Properties();
        p.setProperty("socketTimeout", Long.toString(socketTimeout.toSeconds()));
        p.setProperty("tcpKeepAlive", Boolean.toString(tcpKeepAlive));
        p.setProperty("options", "-c statement_timeout=" + statementTimeout.toMillis());
        return p;
    }

    /**
     * A client for the API's reads on {@code template}'s data source: the driver has the server
     * cancel a statement that runs past {@code read-timeout} (the caller then sees a
     * {@link org.springframework.dao.QueryTimeoutException}).
     */
    public JdbcClient reads(JdbcTemplate template) {
        JdbcTemplate timed = new JdbcTemplate(template.getDataSource());
        timed.setQueryTimeout(readTimeoutSeconds());
        return JdbcClient.create(timed);
    }

    /** The read timeout in whole seconds, as JDBC's query timeout takes it (0: none). */
    public int readTimeoutSeconds() {
        return (int) readTimeout.toSeconds();
    }

    private static void wholeSeconds(String name, Duration value) {
        if (value != null && (value.isNegative() || value.toNanos() % 1_000_000_000L != 0)) {
            throw new IllegalArgumentException(name + " must be a whole number of seconds (0: none)");
        }
    }
}
