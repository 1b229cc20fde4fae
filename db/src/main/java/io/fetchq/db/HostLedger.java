package io.fetchq.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The host ledger ({@code fetchq.host}, {@code fetchq.host_share}): what every worker obeys about a
 * host, whichever worker learned it. See {@code V6__host_ledger.sql} for the invariants.
 */
@Repository
public class HostLedger {

    private static final String TAKE_SHARES = """
            SELECT host, granted, max_in_flight, rate_per_s, paused_ms, breaker, open_ms, trials, contended
            FROM fetchq.take_host_shares(?, ?::text[], ?::int[], ?::int[], ?::float8[], ?::int[], ?::int[], ?)""";

    private final JdbcTemplate jdbc;
    private final RobotsQueries robots;
    private CrawlQueries crawls;

    public HostLedger(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
        this.robots = new RobotsQueries(JdbcClient.create(jdbc));
    }

    /** The crawls' settings, which workers read to judge their pages' links (made at the first call). */
    public synchronized CrawlQueries crawls() {
        if (crawls == null) {
            crawls = new CrawlQueries(jdbc);
        }
        return crawls;
    }

    /** The origins' robots.txt copies, which the fleet obeys as it obeys the ledger. */
    public RobotsQueries robots() {
        return robots;
    }

    /** What a worker asks of one host's share: see {@code fetchq.take_host_shares}. */
    public record ShareRequest(String host, int want, int limit, double rate, int held, int inUse) {
    }

    /** One host's answer: the slots granted and the host's state, times as milliseconds from now. */
    public record Share(String host, int granted, int maxInFlight, double ratePerS, long pausedMs, Breaker breaker,
            long openMs, boolean trials, boolean contended) {
    }

    /** A host's state as the ledger holds it (see {@link #changedSince}). */
    public record HostState(String host, double ratePerS, long pausedMs, Breaker breaker, long openMs,
            String trialWorker, Instant changedAt) {
    }

    /** A host's circuit breaker, fleet-wide. */
    public enum Breaker {
        CLOSED, OPEN, HALF_OPEN;

        static Breaker of(String code) {
            return valueOf(code.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** Grants, renews and hands back shares, one statement for many hosts; commits before returning. */
    public List<Share> takeShares(String workerId, List<ShareRequest> requests, Duration lease) {
        if (requests.isEmpty()) {
            return List.of();
        }
        return jdbc.execute((Connection c) -> {
            try (PreparedStatement ps = c.prepareStatement(TAKE_SHARES)) {
                ps.setString(1, workerId);
                ps.setArray(2, SqlArrays.array(c, "text", requests, ShareRequest::host, String[]::new));
                ps.setArray(3, SqlArrays.array(c, "int4", requests, ShareRequest::want, Integer[]::new));
                ps.setArray(4, SqlArrays.array(c, "int4", requests, ShareRequest::limit, Integer[]::new));
                ps.setArray(5, SqlArrays.array(c, "float8", requests, ShareRequest::rate, Double[]::new));
                ps.setArray(6, SqlArrays.array(c, "int4", requests, ShareRequest::held, Integer[]::new));
                ps.setArray(7, SqlArrays.array(c, "int4", requests, ShareRequest::inUse, Integer[]::new));
                ps.setLong(8, lease.toMillis());
                List<Share> shares = new ArrayList<>(requests.size());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        shares.add(new Share(rs.getString("host"), rs.getInt("granted"), rs.getInt("max_in_flight"),
                                rs.getDouble("rate_per_s"), rs.getLong("paused_ms"), Breaker.of(rs.getString("breaker")),
                                rs.getLong("open_ms"), rs.getBoolean("trials"), rs.getBoolean("contended")));
                    }
                }
                return shares;
            }
        });
    }

    /** The fleet's next {@code n} instants for a request to {@code host}: see {@code fetchq.take_host_rate}. */
    public record RateSlice(double firstMs, double intervalMs) {
        /** The host has no rate: nothing was reserved. */
        public boolean unlimited() {
            return intervalMs <= 0;
        }
    }

    /** Reserves the next {@code n} instants of {@code host}'s rate ({@code rate} when no admin set one, 0: none). */
    public RateSlice takeRate(String host, double rate, int n) {
        return jdbc.queryForObject("SELECT first_ms, interval_ms FROM fetchq.take_host_rate(?, ?, ?)",
                (rs, i) -> new RateSlice(rs.getDouble(1), rs.getDouble(2)), host, rate, n);
    }

    /**
     * Pauses {@code host} for the whole fleet for {@code millis} from now, unless it is paused longer
     * already (a server's {@code Retry-After}).
     */
    public void pause(String host, long millis) {
        jdbc.update("""
                INSERT INTO fetchq.host AS h (host, paused_until, changed_at)
                VALUES (?, now() + ? * interval '1 millisecond', clock_timestamp())
                ON CONFLICT (host) DO UPDATE SET paused_until = EXCLUDED.paused_until, changed_at = clock_timestamp()
                WHERE h.paused_until IS NULL OR h.paused_until < EXCLUDED.paused_until""", host, millis);
    }

    /**
     * Opens {@code host}'s breaker for the fleet for {@code openFor}: when it is closed, or half-open
     * with this worker making the trials (a trial failed). One opened by another worker stays as it is.
     */
    public void open(String host, String workerId, Duration openFor) {
        jdbc.update("""
                INSERT INTO fetchq.host AS h (host, breaker, open_until, changed_at)
                VALUES (?, 'open', now() + ? * interval '1 millisecond', clock_timestamp())
                ON CONFLICT (host) DO UPDATE
                SET breaker = 'open', open_until = EXCLUDED.open_until, trial_worker = NULL, changed_at = clock_timestamp()
                WHERE h.breaker = 'closed' OR h.trial_worker = ?""", host, openFor.toMillis(), workerId);
    }

    /** Closes {@code host}'s breaker for the fleet when this worker made its trials and they went well. */
    public void close(String host, String workerId) {
        jdbc.update("""
                UPDATE fetchq.host SET breaker = 'closed', open_until = NULL, trial_worker = NULL, changed_at = clock_timestamp()
                WHERE host = ? AND breaker = 'half_open' AND trial_worker = ?""", host, workerId);
    }

    /** Hands back every share of the worker (it stops). */
    public void release(String workerId) {
        jdbc.update("DELETE FROM fetchq.host_share WHERE worker_id = ?", workerId);
    }

    /** The database's clock now: where a worker starts reading changes from. */
    public Instant now() {
        return jdbc.queryForObject("SELECT clock_timestamp()", Timestamp.class).toInstant();
    }

    /** Hosts whose pause, breaker or limits changed after {@code since}, oldest change first, at most {@code limit}. */
    public List<HostState> changedSince(Instant since, int limit) {
        return jdbc.query("""
                SELECT host, COALESCE(fetchq.host_rate(rate_per_s, default_rate_per_s, crawl_delay_ms), 0) AS rate_per_s,
                       GREATEST(0, COALESCE(ceil(extract(epoch FROM paused_until - now()) * 1000), 0))::bigint AS paused_ms,
                       breaker,
                       CASE WHEN breaker = 'open'
                            THEN GREATEST(0, ceil(extract(epoch FROM open_until - now()) * 1000))::bigint ELSE 0 END AS open_ms,
                       trial_worker, changed_at
                FROM fetchq.host
                WHERE changed_at > ?
                ORDER BY changed_at
                LIMIT ?""", (rs, i) -> new HostState(rs.getString("host"), rs.getDouble("rate_per_s"),
                rs.getLong("paused_ms"), Breaker.of(rs.getString("breaker")), rs.getLong("open_ms"),
                rs.getString("trial_worker"), rs.getTimestamp("changed_at").toInstant()),
                Timestamp.from(since), limit);
    }

    /** A host as view {@code fetchq.hosts} shows it. */
    public record HostView(String host, Integer maxInFlight, Double ratePerS, long inFlight, OffsetDateTime pausedUntil,
            String breaker, OffsetDateTime openUntil, Integer crawlDelayMs, long queued, OffsetDateTime oldestDueAt) {
    }

    /** An admin's settings of a host; each one present is set, null returning it to the workers' default. */
    public record Settings(boolean setMaxInFlight, Integer maxInFlight, boolean setRatePerS, Double ratePerS,
            boolean setPausedUntil, OffsetDateTime pausedUntil) {
    }

    /** Applies an admin's settings to a host (creating its row), told to every worker within a sync interval. */
    public void configure(String host, Settings settings) {
        jdbc.update("""
                INSERT INTO fetchq.host AS h (host, max_in_flight, rate_per_s, paused_until, changed_at)
                VALUES (?, ?, ?, ?, clock_timestamp())
                ON CONFLICT (host) DO UPDATE
                SET max_in_flight = CASE WHEN ? THEN EXCLUDED.max_in_flight ELSE h.max_in_flight END,
                    rate_per_s = CASE WHEN ? THEN EXCLUDED.rate_per_s ELSE h.rate_per_s END,
                    paused_until = CASE WHEN ? THEN EXCLUDED.paused_until ELSE h.paused_until END,
                    changed_at = clock_timestamp()""",
                host, settings.maxInFlight(), settings.ratePerS(), settings.pausedUntil(),
                settings.setMaxInFlight(), settings.setRatePerS(), settings.setPausedUntil());
    }

    /** One host as {@code fetchq.hosts} shows it, read by the host's own indexes. */
    public HostView view(String host) {
        return jdbc.queryForObject("""
                SELECT ?::text AS host,
                       COALESCE(l.max_in_flight, l.default_max_in_flight) AS max_in_flight,
                       COALESCE(l.rate_per_s, l.default_rate_per_s) AS rate_per_s,
                       (SELECT COALESCE(sum(s.in_use), 0) FROM fetchq.host_share s
                        WHERE s.host = $1 AND s.expires_at > now()) AS in_flight,
                       CASE WHEN l.paused_until > now() THEN l.paused_until END AS paused_until,
                       COALESCE(l.breaker, 'closed') AS breaker,
                       CASE WHEN l.breaker = 'open' THEN l.open_until END AS open_until,
                       l.crawl_delay_ms,
                       (SELECT count(*) FROM fetchq.queue q WHERE q.host = $1 AND q.state <> 'running') AS queued,
                       (SELECT min(q.run_at) FROM fetchq.queue q
                        WHERE q.host = $1 AND q.state <> 'running' AND q.run_at <= now()) AS oldest_due_at
                FROM (SELECT 1) one
                LEFT JOIN fetchq.host l ON l.host = $1""".replace("$1", "?"),
                (rs, i) -> new HostView(rs.getString("host"), rs.getObject("max_in_flight", Integer.class),
                        rs.getObject("rate_per_s", Double.class), rs.getLong("in_flight"),
                        rs.getObject("paused_until", OffsetDateTime.class), rs.getString("breaker"),
                        rs.getObject("open_until", OffsetDateTime.class), rs.getObject("crawl_delay_ms", Integer.class),
                        rs.getLong("queued"), rs.getObject("oldest_due_at", OffsetDateTime.class)),
                host, host, host, host, host);
    }
}
