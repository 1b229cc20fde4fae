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
     */
    public record Stats(Map<String, Long> jobs, long oldestDueMs, long finishedLastMinute, Map<String, Long> workers) {
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
        return new Stats(jobs, oldestDueMs, finishedLastMinute, workers);
    }
}
