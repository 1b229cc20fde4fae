package io.fetchq.bench;

import io.fetchq.db.NewJob;
import io.fetchq.worker.Worker;
import io.fetchq.worker.WorkerProperties;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.jdbc.core.JdbcTemplate;

/** The measured scenarios. Each returns jobs per second for one run on a fresh database. */
final class Scenarios {

    /** Jobs per claim in the bound loop: the worker's default claim batch. */
    static final int BATCH = 128;
    /** Connections of the bound loop: more hurt on 2 cores (see STACK-NOTES-like pgbench figures). */
    static final int BOUND_CONNECTIONS = 4;

    private static final String BOUND_CLAIM = """
            WITH picked AS (
                SELECT job_id FROM fetchq.queue
                WHERE state = 'queued' AND run_at <= now()
                ORDER BY priority DESC, run_at
                LIMIT ?
                FOR UPDATE SKIP LOCKED
            )
            UPDATE fetchq.queue q
            SET state = 'running', attempt = q.attempt + 1, lease_token = ?, worker_id = 'bound',
                lease_expires_at = now() + interval '30 seconds', attempt_started_at = now(),
                first_started_at = COALESCE(q.first_started_at, now())
            FROM picked p WHERE q.job_id = p.job_id
            RETURNING q.job_id, q.attempt
            """;

    /** The writes fetchq makes per completed job: queue row gone, job result, attempt row. */
    private static final String BOUND_COMPLETE = """
            WITH input AS (
                SELECT * FROM unnest(?::bigint[], ?::int[]) AS u(job_id, attempt)
            ), ended AS (
                DELETE FROM fetchq.queue q USING input i
                WHERE q.job_id = i.job_id AND q.lease_token = ? AND q.state = 'running'
                RETURNING q.job_id, q.attempt, q.first_started_at
            ), results AS (
                UPDATE fetchq.job j
                SET state = 'completed', attempts = e.attempt, started_at = e.first_started_at, finished_at = now(),
                    status_code = 200, content_type = 'text/html', body_bytes = 46, body_truncated = false,
                    body_sha256 = 'x', total_ms = 0
                FROM ended e WHERE j.id = e.job_id
            )
            INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, status_code, total_ms)
            SELECT job_id, attempt, 'bound', now(), now(), 200, 0 FROM ended
            """;

    private Scenarios() {
    }

    /** The ceiling: a raw JDBC loop doing fetchq's writes per job at fetchq's batch size. */
    static double bound(int n) throws Exception {
        try (BenchDatabase db = new BenchDatabase()) {
            db.queue(n);
            ExecutorService pool = Executors.newFixedThreadPool(BOUND_CONNECTIONS);
            long started = System.nanoTime();
            List<Future<Long>> loops = new ArrayList<>();
            for (int i = 0; i < BOUND_CONNECTIONS; i++) {
                loops.add(pool.submit(() -> boundLoop(db.url)));
            }
            long done = 0;
            for (Future<Long> loop : loops) {
                done += loop.get();
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            pool.shutdown();
            check(done == n, "bound drained " + done + " of " + n);
            return n / seconds;
        }
    }

    private static long boundLoop(String url) throws Exception {
        long done = 0;
        try (Connection c = DriverManager.getConnection(url);
                PreparedStatement claim = c.prepareStatement(BOUND_CLAIM);
                PreparedStatement complete = c.prepareStatement(BOUND_COMPLETE)) {
            while (true) {
                UUID token = UUID.randomUUID();
                claim.setInt(1, BATCH);
                claim.setObject(2, token);
                List<Long> ids = new ArrayList<>(BATCH);
                List<Integer> attempts = new ArrayList<>(BATCH);
                try (ResultSet rs = claim.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                        attempts.add(rs.getInt(2));
                    }
                }
                if (ids.isEmpty()) {
                    return done;
                }
                Array idArray = c.createArrayOf("int8", ids.toArray());
                complete.setArray(1, idArray);
                complete.setArray(2, c.createArrayOf("int4", attempts.toArray()));
                complete.setObject(3, token);
                complete.executeUpdate();
                done += ids.size();
            }
        }
    }

    /** The real worker, with a fetcher that does no network; every attempt and result written. */
    static double drainNoop(int n) throws Exception {
        try (BenchDatabase db = new BenchDatabase()) {
            db.queue(n);
            TimedQueueQueries queue = new TimedQueueQueries(new JdbcTemplate(db.dataSource));
            Worker worker = new Worker(workerSettings(), queue, db.workers, new NoopFetcher());
            long started = System.nanoTime();
            worker.start();
            while (db.count("SELECT count(*) FROM fetchq.queue") > 0) {
                Thread.sleep(10);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            worker.close();
            System.out.println("  drain-noop: " + queue.summary());
            check(db.count("SELECT count(*) FROM fetchq.attempt") == n, "drain-noop wrote every attempt");
            return n / seconds;
        }
    }

    /** Bulk intake through the db layer (what the API does after validation). */
    static double enqueueDb(int n) throws Exception {
        try (BenchDatabase db = new BenchDatabase()) {
            List<NewJob> jobs = BenchDatabase.jobs(n);
            long started = System.nanoTime();
            db.jobs.insertBatch(jobs);
            double seconds = (System.nanoTime() - started) / 1e9;
            check(db.count("SELECT count(*) FROM fetchq.queue") == n, "enqueue-db inserted every job");
            return n / seconds;
        }
    }

    static WorkerProperties workerSettings() {
        Map<String, String> settings = new HashMap<>();
        settings.put("fetchq.worker.poll-interval", "20ms");
        settings.put("fetchq.worker.id", "bench");
        settings.put("fetchq.worker.max-in-flight", System.getProperty("bench.inflight", "256"));
        settings.put("fetchq.worker.claim-batch", System.getProperty("bench.claim", "128"));
        settings.put("fetchq.worker.completers", System.getProperty("bench.completers", "1"));
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("fetchq.worker", WorkerProperties.class);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("benchmark check failed: " + what);
        }
    }
}
