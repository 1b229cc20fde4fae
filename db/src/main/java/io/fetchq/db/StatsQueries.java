package io.fetchq.db;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The whole installation at a glance. Unfinished jobs are counted from the queue (small); finished
 * ones from the index of finished jobs, which grows with the history kept, so callers should not
 * ask more often than every few seconds (the API caches the answer).
 */
@Repository
public class StatsQueries {

    private final JdbcClient jdbc;

    public StatsQueries(JdbcClient jdbc) {
        this.jdbc = jdbc;
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
     * A host as the dashboard shows it: its jobs waiting and being fetched, its jobs finished and
     * failed over the last 15 minutes, and whether a live worker holds its circuit breaker open.
     */
    public record HostRow(String host, long queued, long running, long finished, long failed, boolean breakerOpen) {
    }

    /** The busiest hosts: most unfinished jobs first, then most finished lately. */
    public java.util.List<HostRow> hosts(int limit) {
        return hosts(limit, null);
    }

    /**
     * The busiest hosts of {@code tenant}'s jobs (every tenant's when null): queued and running,
     * finished and failed over 15 minutes, and whether a live worker holds the host's breaker open
     * (a host's breaker is shared by every tenant that fetches from it).
     */
    public java.util.List<HostRow> hosts(int limit, String tenant) {
        String unfinished = tenant == null
                ? "SELECT host, count(*) FILTER (WHERE state = 'queued') AS queued, "
                        + "count(*) FILTER (WHERE state = 'running') AS running FROM fetchq.queue GROUP BY host"
                : "SELECT q.host, count(*) FILTER (WHERE q.state = 'queued') AS queued, "
                        + "count(*) FILTER (WHERE q.state = 'running') AS running "
                        + "FROM fetchq.queue q JOIN fetchq.job j ON j.id = q.job_id WHERE j.tenant = :tenant GROUP BY q.host";
        return Tenants.bind(jdbc.sql("""
                WITH unfinished AS (%s), recent AS (
                    SELECT host, count(*) AS finished, count(*) FILTER (WHERE state = 'failed') AS failed
                    FROM fetchq.job j WHERE finished_at > now() - interval '15 minutes'%s GROUP BY host
                ), open AS (
                    SELECT DISTINCT unnest(open_hosts) AS host FROM fetchq.worker WHERE state IN ('running', 'draining')
                )
                SELECT h.host, COALESCE(u.queued, 0) AS queued, COALESCE(u.running, 0) AS running,
                       COALESCE(r.finished, 0) AS finished, COALESCE(r.failed, 0) AS failed,
                       EXISTS (SELECT 1 FROM open o WHERE o.host = h.host) AS breaker_open
                FROM (SELECT host FROM unfinished UNION SELECT host FROM recent%s) h
                LEFT JOIN unfinished u USING (host)
                LEFT JOIN recent r USING (host)
                ORDER BY COALESCE(u.queued, 0) + COALESCE(u.running, 0) DESC, COALESCE(r.finished, 0) DESC, h.host
                LIMIT :limit""".formatted(unfinished, Tenants.condition("j", tenant),
                        tenant == null ? " UNION SELECT host FROM open" : ""))
                .param("limit", limit), tenant)
                .query(HostRow.class)
                .list();
    }

    public Stats read() {
        Map<String, Long> jobs = new LinkedHashMap<>();
        for (String state : JobState.ALL) {
            jobs.put(state, 0L);
        }
        jdbc.sql("""
                SELECT state, count(*) FROM fetchq.queue GROUP BY state
                UNION ALL
                SELECT state, count(*) FROM fetchq.job WHERE finished_at IS NOT NULL GROUP BY state""")
                .query((rs, n) -> Map.entry(rs.getString(1), rs.getLong(2)))
                .list()
                .forEach(e -> jobs.merge(e.getKey(), e.getValue(), Long::sum));
        long oldestDueMs = jdbc.sql("""
                SELECT COALESCE(extract(epoch FROM now() - min(run_at)) * 1000, 0)::bigint
                FROM fetchq.queue WHERE state = 'queued' AND run_at <= now()""")
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
                WHERE finished_at > now() - interval '1 hour' AND state = 'failed'
                GROUP BY 1 ORDER BY 2 DESC""")
                .query((rs, n) -> Map.entry(rs.getString(1), rs.getLong(2)))
                .list()
                .forEach(e -> failures.put(e.getKey(), e.getValue()));
        return new Stats(jobs, oldestDueMs, finishedLastMinute, workers, failures);
    }
}
