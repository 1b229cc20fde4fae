package io.fetchq.db;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The whole installation at a glance. Jobs by state come from the counts that every write keeps
 * ({@code fetchq.job_count}); the windows (finished in the last minute, failed in the last hour)
 * from index ranges of that window: nothing reads the whole history.
 */
@Repository
public class StatsQueries {

    /** Every statement here is a read of the API: bounded by {@code fetchq.db.read-timeout}. */
    private final JdbcClient jdbc;

    /** Reads without a time limit (tests, tools). */
    public StatsQueries(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Autowired
    public StatsQueries(JdbcTemplate template, DbProperties db) {
        this.jdbc = db.reads(template);
    }

    /**
     * @param jobs jobs by state, every state present
     * @param oldestDueMs how long the oldest due, unclaimed job has waited, or 0 when none waits
     * @param finishedLastMinute jobs that reached a final state in the last 60 seconds
     * @param workers workers in {@code fetchq.workers} by state, every state present
     * @param failuresLastHour jobs failed in the last hour, by error kind
     */
    public record Stats(Map<String, Long> jobs, long oldestDueMs, long finishedLastMinute, Map<String, Long> workers,
            Map<String, Long> failuresLastHour) {
    }

    /**
     * A host as the dashboard shows it: its jobs waiting and being fetched, how long its oldest due
     * job has waited to be claimed, its jobs finished and failed over the last 15 minutes, whether a
     * live worker holds its circuit breaker open or honours its {@code Retry-After}, and whether it
     * is stuck: due jobs waiting longer than the stuck threshold, none running, and nothing holding
     * it back — the sign of a fault, since a worker with room claims a due job within its poll
     * interval. Then the host ledger's view of it: its limit and rate in force (an admin's, else the
     * workers' configured ones), the fleet's requests in flight, its pause and its breaker.
     */
    public record HostRow(String host, long queued, long running, long oldestDueAgeMs, long finished, long failed,
            boolean breakerOpen, boolean paused, boolean stuck, Integer maxInFlight, Double ratePerS, long inFlight,
            OffsetDateTime pausedUntil, String breaker, OffsetDateTime openUntil, Integer crawlDelayMs) {
    }

    /** The hosts whose oldest due job has waited longest, and how many hosts are stuck (see {@link HostRow}). */
    public record Waiting(List<HostWait> longest, long stuckHosts) {
    }

    /** A host and how long its oldest due job has waited. */
    public record HostWait(String host, long oldestDueAgeMs) {
    }

    /** Per host: jobs queued, running, and the age of the oldest due one. */
    private static final String UNFINISHED = """
            SELECT q.host, count(*) FILTER (WHERE q.state <> 'running') AS queued,
                   count(*) FILTER (WHERE q.state = 'running') AS running,
                   COALESCE(extract(epoch FROM now() - min(q.run_at) FILTER (WHERE q.state <> 'running' AND q.run_at <= now()))
                            * 1000, 0)::bigint AS oldest_due_ms
            FROM fetchq.queue q %s GROUP BY q.host""";

    /** Hosts the ledger holds back: breaker not closed, or paused. */
    private static final String HELD_BACK = """
            open AS (
                SELECT host FROM fetchq.host WHERE breaker <> 'closed'
            ), paused AS (
                SELECT host FROM fetchq.host WHERE paused_until > now()
            )""";

    private static final String STUCK = """
            (u.oldest_due_ms > :stuckMs AND u.running = 0
             AND NOT EXISTS (SELECT 1 FROM open o WHERE o.host = u.host)
             AND NOT EXISTS (SELECT 1 FROM paused p WHERE p.host = u.host))""";

    /** The busiest hosts: most unfinished jobs first, then most finished lately. */
    public List<HostRow> hosts(int limit, Duration stuckAfter) {
        return hosts(limit, null, stuckAfter);
    }

    /**
     * The busiest hosts of {@code tenant}'s jobs (every tenant's when null), as {@link HostRow}s; a
     * host's breaker and pause are shared by every tenant that fetches from it.
     */
    public List<HostRow> hosts(int limit, String tenant, Duration stuckAfter) {
        String unfinished = UNFINISHED.formatted(tenant == null ? ""
                : "JOIN fetchq.job j ON j.id = q.job_id WHERE j.tenant = :tenant");
        return Tenants.bind(jdbc.sql("""
                WITH unfinished AS (%s), recent AS (
                    SELECT host, count(*) AS finished, count(*) FILTER (WHERE state = 'failed') AS failed
                    FROM fetchq.job j WHERE finished_at > now() - interval '15 minutes'%s GROUP BY host
                ), %s
                SELECT h.host, COALESCE(u.queued, 0) AS queued, COALESCE(u.running, 0) AS running,
                       COALESCE(u.oldest_due_ms, 0) AS oldest_due_age_ms,
                       COALESCE(r.finished, 0) AS finished, COALESCE(r.failed, 0) AS failed,
                       EXISTS (SELECT 1 FROM open o WHERE o.host = h.host) AS breaker_open,
                       EXISTS (SELECT 1 FROM paused p WHERE p.host = h.host) AS paused,
                       COALESCE(%s, false) AS stuck,
                       COALESCE(l.max_in_flight, l.default_max_in_flight) AS max_in_flight,
                       COALESCE(l.rate_per_s, l.default_rate_per_s) AS rate_per_s,
                       (SELECT COALESCE(sum(s.in_use), 0) FROM fetchq.host_share s
                        WHERE s.host = h.host AND s.expires_at > now()) AS in_flight,
                       CASE WHEN l.paused_until > now() THEN l.paused_until END AS paused_until,
                       COALESCE(l.breaker, 'closed') AS breaker,
                       CASE WHEN l.breaker = 'open' THEN l.open_until END AS open_until,
                       l.crawl_delay_ms
                FROM (SELECT host FROM unfinished UNION SELECT host FROM recent%s) h
                LEFT JOIN unfinished u USING (host)
                LEFT JOIN recent r USING (host)
                LEFT JOIN fetchq.host l ON l.host = h.host
                ORDER BY COALESCE(u.queued, 0) + COALESCE(u.running, 0) DESC, COALESCE(r.finished, 0) DESC, h.host
                LIMIT :limit""".formatted(unfinished, Tenants.condition("j", tenant), HELD_BACK, STUCK,
                        tenant == null ? " UNION SELECT host FROM open UNION SELECT host FROM paused" : ""))
                .param("limit", limit).param("stuckMs", stuckAfter.toMillis()), tenant)
                .query((rs, n) -> new HostRow(rs.getString("host"), rs.getLong("queued"), rs.getLong("running"),
                        rs.getLong("oldest_due_age_ms"), rs.getLong("finished"), rs.getLong("failed"),
                        rs.getBoolean("breaker_open"), rs.getBoolean("paused"), rs.getBoolean("stuck"),
                        rs.getObject("max_in_flight", Integer.class), rs.getObject("rate_per_s", Double.class),
                        rs.getLong("in_flight"), rs.getObject("paused_until", OffsetDateTime.class),
                        rs.getString("breaker"), rs.getObject("open_until", OffsetDateTime.class),
                        rs.getObject("crawl_delay_ms", Integer.class)))
                .list();
    }

    /** The {@code limit} hosts whose oldest due job has waited longest, and the stuck hosts' count. */
    public Waiting waiting(int limit, Duration stuckAfter) {
        long[] stuck = {0};
        List<HostWait> longest = jdbc.sql("""
                WITH u AS (%s), %s, w AS (
                    SELECT u.host, u.oldest_due_ms, %s AS stuck FROM u WHERE u.oldest_due_ms > 0
                )
                SELECT host, oldest_due_ms, (SELECT count(*) FROM w WHERE stuck) AS stuck_hosts
                FROM w ORDER BY oldest_due_ms DESC LIMIT :limit""".formatted(UNFINISHED.formatted(""), HELD_BACK, STUCK))
                .param("stuckMs", stuckAfter.toMillis()).param("limit", limit)
                .query((rs, n) -> {
                    stuck[0] = rs.getLong("stuck_hosts");
                    return new HostWait(rs.getString("host"), rs.getLong("oldest_due_ms"));
                })
                .list();
        return new Waiting(longest, stuck[0]);
    }

    public Stats read() {
        Map<String, Long> jobs = new LinkedHashMap<>();
        for (String state : JobState.CODES) {
            jobs.put(state, 0L);
        }
        // Jobs by state from the counts the writes keep (fetchq.job_count, key 0: every job); running
        // ones from the queue's running rows, which are at most what the workers hold.
        jdbc.sql("""
                SELECT COALESCE(sum(unfinished), 0) AS unfinished, COALESCE(sum(completed), 0) AS completed,
                       COALESCE(sum(failed), 0) AS failed, COALESCE(sum(cancelled), 0) AS cancelled,
                       (SELECT count(*) FROM fetchq.queue WHERE state = 'running') AS running
                FROM fetchq.job_count WHERE batch_id = 0""")
                .query(rs -> {
                    long running = rs.getLong("running");
                    jobs.put("queued", Math.max(0, rs.getLong("unfinished") - running));
                    jobs.put("running", running);
                    jobs.put("completed", rs.getLong("completed"));
                    jobs.put("failed", rs.getLong("failed"));
                    jobs.put("cancelled", rs.getLong("cancelled"));
                });
        // The oldest due job: the first due one of each priority (few: they are bounded), from the
        // claim order's index, rather than every queued row.
        long oldestDueMs = jdbc.sql("""
                WITH RECURSIVE p(priority) AS (
                    (SELECT priority FROM fetchq.queue WHERE state = 'queued' ORDER BY priority DESC LIMIT 1)
                    UNION ALL
                    SELECT (SELECT q.priority FROM fetchq.queue q
                            WHERE q.state = 'queued' AND q.priority < p.priority ORDER BY q.priority DESC LIMIT 1)
                    FROM p WHERE p.priority IS NOT NULL
                )
                SELECT COALESCE(extract(epoch FROM now() - LEAST(min(d.run_at), (
                           -- Scheduled jobs come due too, before a worker promotes them (or when none runs).
                           SELECT min(s.run_at) FROM fetchq.queue s WHERE s.state = 'scheduled' AND s.run_at <= now()
                       ))) * 1000, 0)::bigint
                FROM p
                CROSS JOIN LATERAL (
                    SELECT q.run_at FROM fetchq.queue q
                    WHERE q.state = 'queued' AND q.priority = p.priority AND q.run_at <= now()
                    ORDER BY q.run_at LIMIT 1
                ) d
                WHERE p.priority IS NOT NULL""")
                .query(Long.class).single();
        long finishedLastMinute = jdbc.sql("""
                SELECT count(*) FROM fetchq.job WHERE finished_at > now() - interval '1 minute'""")
                .query(Long.class).single();
        Map<String, Long> workers = new LinkedHashMap<>();
        for (String state : new String[] {"running", "draining", "stopped", "lost"}) {
            workers.put(state, 0L);
        }
        jdbc.sql("SELECT state, count(*) FROM fetchq.worker GROUP BY state")
                .query((rs, n) -> Map.entry(rs.getString(1), rs.getLong(2)))
                .list()
                .forEach(e -> workers.put(e.getKey(), e.getValue()));
        Map<String, Long> failures = new LinkedHashMap<>();
        jdbc.sql("""
                SELECT COALESCE(error_kind, 'unknown'), count(*) FROM fetchq.job
                WHERE state = 'failed' AND finished_at > now() - interval '1 hour'
                GROUP BY 1 ORDER BY 2 DESC""")
                .query((rs, n) -> Map.entry(rs.getString(1), rs.getLong(2)))
                .list()
                .forEach(e -> failures.put(e.getKey(), e.getValue()));
        return new Stats(jobs, oldestDueMs, finishedLastMinute, workers, failures);
    }
}
