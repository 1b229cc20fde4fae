package io.fetchq.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The fleet's robots.txt copies ({@code fetchq.robots_txt}, see {@code V12__robots.sql}): one row per
 * origin, fetched by one worker at a time under a lease, read by every worker. Times are the
 * caller's clock.
 */
@Repository
public class RobotsQueries {

    private final JdbcClient jdbc;

    public RobotsQueries(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * An origin's robots.txt as last fetched.
     *
     * @param statusCode the last fetch's status, null when it got no answer
     * @param expiresAt when it is to be fetched again
     * @param goodAt when the last good copy was fetched (null: none), {@code goodStatus} its status
     *     (2xx: {@code body} holds its text; 4xx: allow all)
     * @param unreachableSince since when the origin gives no usable answer (null: it does)
     * @param fetchingUntil until when another worker's fetch lease holds (null: none)
     */
    public record Copy(String origin, Instant fetchedAt, Integer statusCode, String error, Instant expiresAt,
            Instant goodAt, Integer goodStatus, byte[] body, Integer crawlDelayMs, Instant unreachableSince,
            int failures, Instant fetchingUntil) {
    }

    public Optional<Copy> find(String origin) {
        return jdbc.sql("""
                SELECT origin, fetched_at, status_code, error, expires_at, good_at, good_status, body, crawl_delay_ms,
                       unreachable_since, failures, fetching_until
                FROM fetchq.robots_txt WHERE origin = ?""")
                .param(origin)
                .query((rs, i) -> new Copy(rs.getString("origin"), at(rs, "fetched_at"),
                        rs.getObject("status_code", Integer.class), rs.getString("error"),
                        at(rs, "expires_at"), at(rs, "good_at"),
                        rs.getObject("good_status", Integer.class), rs.getBytes("body"),
                        rs.getObject("crawl_delay_ms", Integer.class), at(rs, "unreachable_since"),
                        rs.getInt("failures"), at(rs, "fetching_until")))
                .optional();
    }

    /**
     * Takes the origin's fetch lease until {@code until} when its copy is due ({@code expires_at}
     * passed, or no copy) and no other worker's lease holds at {@code now}.
     *
     * @return whether this worker is to fetch it
     */
    public boolean takeFetch(String origin, String workerId, Instant now, Instant until) {
        return jdbc.sql("""
                INSERT INTO fetchq.robots_txt AS r (origin, expires_at, fetching_by, fetching_until)
                VALUES (:origin, '-infinity', :worker, :until)
                ON CONFLICT (origin) DO UPDATE SET fetching_by = EXCLUDED.fetching_by, fetching_until = EXCLUDED.fetching_until
                WHERE r.expires_at <= :now AND (r.fetching_until IS NULL OR r.fetching_until <= :now)
                RETURNING origin""")
                .param("origin", origin)
                .param("worker", workerId)
                .param("until", utc(until))
                .param("now", utc(now))
                .query(String.class)
                .optional()
                .isPresent();
    }

    /**
     * Records an answer a copy is made of (a 2xx with its text, or a 4xx: allow all), fresh until
     * {@code expiresAt}, and the Crawl-delay into the host's ledger row (null clears it), for every
     * worker's rate of the host.
     */
    public void storeAnswer(String origin, String host, Instant fetchedAt, Integer status, byte[] body,
            Integer crawlDelayMs, Instant expiresAt) {
        jdbc.sql("""
                WITH copy AS (
                    UPDATE fetchq.robots_txt
                    SET fetched_at = :at, status_code = :status, error = NULL, expires_at = :expires, good_at = :at,
                        good_status = :status, body = :body, crawl_delay_ms = :delay, unreachable_since = NULL,
                        failures = 0, fetching_by = NULL, fetching_until = NULL
                    WHERE origin = :origin
                )
                INSERT INTO fetchq.host AS h (host, crawl_delay_ms) VALUES (:host, :delay)
                ON CONFLICT (host) DO UPDATE SET crawl_delay_ms = EXCLUDED.crawl_delay_ms, changed_at = clock_timestamp()
                WHERE h.crawl_delay_ms IS DISTINCT FROM EXCLUDED.crawl_delay_ms""")
                .param("origin", origin)
                .param("host", host)
                .param("at", utc(fetchedAt))
                .param("status", status)
                .param("body", body)
                .param("delay", crawlDelayMs)
                .param("expires", utc(expiresAt))
                .update();
    }

    /** Gives up the fetch lease without recording anything: another worker may try at once. */
    public void releaseFetch(String origin, String workerId) {
        jdbc.sql("""
                UPDATE fetchq.robots_txt SET fetching_by = NULL, fetching_until = NULL
                WHERE origin = ? AND fetching_by = ?""").params(origin, workerId).update();
    }

    /**
     * Records a fetch that got no usable answer ({@code status} 5xx or 429, or null for none): the
     * last good copy stays; the origin is tried again at {@code retryAt}.
     */
    public void storeUnreachable(String origin, Instant fetchedAt, Integer status, String error, Instant retryAt) {
        jdbc.sql("""
                UPDATE fetchq.robots_txt
                SET fetched_at = :at, status_code = :status, error = :error, expires_at = :retry,
                    unreachable_since = COALESCE(unreachable_since, :at), failures = failures + 1,
                    fetching_by = NULL, fetching_until = NULL
                WHERE origin = :origin""")
                .param("origin", origin)
                .param("at", utc(fetchedAt))
                .param("status", status)
                .param("error", error)
                .param("retry", utc(retryAt))
                .update();
    }

    private static OffsetDateTime utc(Instant at) {
        return OffsetDateTime.ofInstant(at, ZoneOffset.UTC);
    }

    private static Instant at(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
