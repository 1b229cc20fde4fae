package io.fetchq.db;

import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The workers registry ({@code fetchq.workers}): each worker's row, kept fresh by its heartbeat. */
@Repository
public class WorkerQueries {

    private final JdbcClient jdbc;

    public WorkerQueries(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public void register(String workerId, String hostname, long pid) {
        jdbc.sql("""
                INSERT INTO fetchq.worker (worker_id, hostname, pid, state)
                VALUES (:id, :host, :pid, 'running')
                ON CONFLICT (worker_id) DO UPDATE
                SET hostname = EXCLUDED.hostname, pid = EXCLUDED.pid, started_at = now(), last_seen_at = now(),
                    in_flight = 0, state = 'running'""")
                .param("id", workerId).param("host", hostname).param("pid", pid)
                .update();
    }

    /**
     * Marks workers not seen for {@code silentFor} as lost and deletes stopped or lost ones not seen
     * for {@code keepFor}.
     */
    public void markLostAndPrune(java.time.Duration silentFor, java.time.Duration keepFor) {
        jdbc.sql("""
                UPDATE fetchq.worker SET state = 'lost'
                WHERE state IN ('running', 'draining') AND last_seen_at < now() - :silent * interval '1 millisecond'""")
                .param("silent", silentFor.toMillis())
                .update();
        jdbc.sql("""
                DELETE FROM fetchq.worker
                WHERE state IN ('stopped', 'lost') AND last_seen_at < now() - :keep * interval '1 millisecond'""")
                .param("keep", keepFor.toMillis())
                .update();
    }

    public void heartbeat(String workerId, int inFlight, WorkerState state) {
        heartbeat(workerId, inFlight, state, List.of(), List.of());
    }

    /**
     * Shows the worker alive, with the hosts it holds back: those whose circuit breaker it holds
     * open (or half-open), and those paused by a {@code Retry-After}.
     */
    public void heartbeat(String workerId, int inFlight, WorkerState state, List<String> openHosts,
            List<String> pausedHosts) {
        jdbc.sql("""
                UPDATE fetchq.worker SET last_seen_at = now(), in_flight = :n, state = :state,
                       open_hosts = string_to_array(:open, E'\\n'), paused_hosts = string_to_array(:paused, E'\\n')
                WHERE worker_id = :id""")
                .param("id", workerId).param("n", inFlight).param("state", state.code())
                .param("open", String.join("\n", openHosts))
                .param("paused", String.join("\n", pausedHosts))
                .update();
    }
}
