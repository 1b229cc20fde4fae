package io.fetchq.bench;

import io.fetchq.db.HostLedger;
import io.fetchq.db.NewJob;
import io.fetchq.db.ScheduleQueries;
import io.fetchq.url.FetchProperties;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.Worker;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.fetch.Fetcher;
import io.fetchq.worker.fetch.HttpFetcher;
import io.fetchq.worker.retention.Retention;
import io.fetchq.worker.retention.RetentionProperties;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The measured scenarios. Each {@link Bench.Scenario} prepares what its runs share (a database with
 * history, a launched API) and measures one run per call.
 */
final class Scenarios {

    static final String JOBS_PER_S = "jobs/s";
    static final String P50_MS = "p50 ms";
    static final String P99_MS = "p99 ms";
    static final String PEAK_RSS_MIB = "peak RSS MiB";

    /** Jobs per claim in the bound loop: the worker's default claim batch. */
    static final int BATCH = 128;
    /** Connections of the bound loop: more hurt on 2 cores (see STACK-NOTES-like pgbench figures). */
    static final int BOUND_CONNECTIONS = 4;
    /** Fetches in flight in drain-http: the worker's default. */
    static final int HTTP_IN_FLIGHT = 256;

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

    /**
     * The writes fetchq makes per completed job of drain-noop: queue row gone, job result, attempt
     * row, stored body.
     */
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
            ), bodies AS (
                INSERT INTO fetchq.body (job_id, content_type, body)
                SELECT job_id, 'text/html', '\\x3c68746d6c3e'::bytea FROM ended
            )
            INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, status_code, total_ms)
            SELECT job_id, attempt, 'bound', now(), now(), 200, 0 FROM ended
            """;

    private Scenarios() {
    }

    /** The ceiling: a raw JDBC loop doing fetchq's writes per job at fetchq's batch size. */
    static Bench.Scenario bound(Bench.Options options) {
        return warmUp -> {
            int n = options.jobs(warmUp);
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
                return Map.of(JOBS_PER_S, n / seconds);
            }
        };
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
    static Bench.Scenario drainNoop(Bench.Options options) {
        return warmUp -> {
            try (BenchDatabase db = new BenchDatabase()) {
                return Map.of(JOBS_PER_S, drain(db, options.jobs(warmUp), BenchDatabase::exampleJob, new NoopFetcher(),
                        workerSettings(Map.of())));
            }
        };
    }

    /**
     * drain-noop again over a history of finished jobs and their attempts, built once for all runs
     * (each run's jobs join it).
     */
    static Bench.Scenario history(Bench.Options options) {
        BenchDatabase db = new BenchDatabase();
        db.addHistory(options.history(), 1);
        return new Bench.Scenario() {
            @Override
            public Map<String, Double> run(boolean warmUp) throws Exception {
                return Map.of(JOBS_PER_S, drain(db, options.jobs(warmUp), BenchDatabase::exampleJob, new NoopFetcher(),
                        workerSettings(Map.of())));
            }

            @Override
            public void close() {
                db.close();
            }
        };
    }

    /** A retention pass over a history wholly past retention: how fast history can be deleted. */
    static Bench.Scenario retention(Bench.Options options) {
        return warmUp -> {
            int n = options.jobs(warmUp);
            try (BenchDatabase db = new BenchDatabase()) {
                db.addHistory(n, 40);
                Retention retention = new Retention(new Binder(new MapConfigurationPropertySource(Map.of()))
                        .bindOrCreate("fetchq.retention", RetentionProperties.class), db.retention);
                long started = System.nanoTime();
                long deleted = retention.runOnce();
                double seconds = (System.nanoTime() - started) / 1e9;
                check(deleted == n && db.count("SELECT count(*) FROM fetchq.attempt") == 0
                        && db.count("SELECT count(*) FROM fetchq.body") == 0, "retention deleted every job");
                return Map.of(JOBS_PER_S, n / seconds);
            }
        };
    }

    /** The real worker and fetcher, fetching from a fast loopback site; every result and body stored. */
    static Bench.Scenario drainHttp(Bench.Options options) throws Exception {
        LoopbackSite site = new LoopbackSite();
        return new Bench.Scenario() {
            @Override
            public Map<String, Double> run(boolean warmUp) throws Exception {
                try (BenchDatabase db = new BenchDatabase()) {
                    WorkerProperties settings = workerSettings(Map.of(
                            "fetchq.worker.max-in-flight", Integer.toString(HTTP_IN_FLIGHT),
                            "fetchq.worker.host-limits[127.0.0.1]", Integer.toString(HTTP_IN_FLIGHT)));
                    FetchProperties fetch = new Binder(new MapConfigurationPropertySource(Map.of(
                            "fetchq.fetch.allow-private-networks", "true")))
                            .bindOrCreate("fetchq.fetch", FetchProperties.class);
                    Fetcher fetcher = new HttpFetcher(new UrlPolicy(true), fetch, settings.maxInFlight());
                    int n = options.jobs(warmUp);
                    double rate = drain(db, n, i -> BenchDatabase.job(site.url("/page/" + i), "127.0.0.1"),
                            fetcher, settings);
                    check(db.count("SELECT count(*) FROM fetchq.job_results WHERE status_code = 200 AND title = 'bench'")
                            == n, "drain-http fetched every page");
                    return Map.of(JOBS_PER_S, rate);
                }
            }

            @Override
            public void close() throws Exception {
                site.close();
            }
        };
    }

    /** Queues {@code n} jobs into {@code db}, drains them with one in-process worker, returns jobs/s. */
    private static double drain(BenchDatabase db, int n, IntFunction<NewJob> job, Fetcher fetcher,
            WorkerProperties settings) throws InterruptedException {
        long finishedBefore = db.count("SELECT count(*) FROM fetchq.attempt");
        db.queue(n, job);
        TimedQueueQueries queue = new TimedQueueQueries(new JdbcTemplate(db.dataSource));
        Worker worker = new Worker(settings, queue, db.workers, new HostLedger(new JdbcTemplate(db.dataSource)), fetcher);
        long started = System.nanoTime();
        worker.start();
        await(() -> queue.written() >= n, Duration.ofMinutes(30), "the drain");
        double seconds = (System.nanoTime() - started) / 1e9;
        worker.close();
        System.out.println("    " + queue.summary());
        check(db.count("SELECT count(*) FROM fetchq.queue") == 0, "the drain left no job in the queue");
        check(db.count("SELECT count(*) FROM fetchq.attempt") - finishedBefore == n, "the drain wrote every attempt");
        return n / seconds;
    }

    /** Bulk intake through the db layer (what the API does after validation). */
    static Bench.Scenario enqueueDb(Bench.Options options) {
        return warmUp -> {
            int n = options.jobs(warmUp);
            try (BenchDatabase db = new BenchDatabase()) {
                List<NewJob> jobs = BenchDatabase.jobs(n, BenchDatabase::exampleJob);
                long started = System.nanoTime();
                db.jobs.insertBatch(jobs);
                double seconds = (System.nanoTime() - started) / 1e9;
                check(db.count("SELECT count(*) FROM fetchq.queue") == n, "enqueue-db inserted every job");
                return Map.of(JOBS_PER_S, n / seconds);
            }
        };
    }

    /** Schedules due in the same minute, for the schedules scenario (fewer with a smaller {@code --n}). */
    static final int SCHEDULES = 10_000;

    static int scheduleCount(Bench.Options options) {
        return Math.min(options.n(), SCHEDULES);
    }

    /**
     * {@value #SCHEDULES} schedules of one URL each, all due at the same minute, run by one process
     * as its schedule runner does ({@code runDue} with the default batch of 100 and the default
     * late-after, again while a pass is full): the time from the first pass to the last run's batch.
     */
    static Bench.Scenario schedules(Bench.Options options) {
        return warmUp -> {
            int n = warmUp ? Math.min(500, scheduleCount(options)) : scheduleCount(options);
            try (BenchDatabase db = new BenchDatabase()) {
                Instant minute = Instant.parse("2026-06-01T10:00:00Z");
                db.sql.sql("""
                        INSERT INTO fetchq.schedule (id, tenant, name, cron, time_zone, next_run_at, job_count, created_at)
                        SELECT g, 'default', 'check ' || g, '* * * * *', 'UTC', :minute, 1, :created
                        FROM generate_series(1, :n) g""")
                        .param("minute", OffsetDateTime.ofInstant(minute, ZoneOffset.UTC))
                        .param("created", OffsetDateTime.ofInstant(minute.minusSeconds(30), ZoneOffset.UTC))
                        .param("n", n).update();
                db.sql.sql("""
                        INSERT INTO fetchq.schedule_job (schedule_id, position, url, host, method, priority, max_attempts,
                                                         timeout_ms, max_body_bytes, store_body, follow_redirects, extract)
                        SELECT g, 0, 'https://h' || g % 100 || '.example/status/' || g, 'h' || g % 100 || '.example', 'GET',
                               0, 3, 60000, 1048576, true, true, '{}'
                        FROM generate_series(1, :n) g""").param("n", n).update();
                db.sql.sql("VACUUM ANALYZE fetchq.schedule").update();
                db.sql.sql("VACUUM ANALYZE fetchq.schedule_job").update();
                Duration lateAfter = Duration.ofSeconds(60);
                long started = System.nanoTime();
                int made = 0;
                int passes = 0;
                ScheduleQueries.Pass pass;
                do {
                    pass = db.schedules.runDue(minute.plusSeconds(1), 100, lateAfter);
                    passes++;
                    made += pass.runs().size();
                } while (pass.more(100));
                double seconds = (System.nanoTime() - started) / 1e9;
                check(made == n, "every schedule ran: " + made + " of " + n);
                check(db.count("SELECT count(*) FROM fetchq.batch WHERE schedule_id IS NOT NULL") == n, "a batch per schedule");
                check(db.count("SELECT count(*) FROM fetchq.queue") == n, "a queued job per run");
                System.out.printf("    %d schedules run in %d passes%n", n, passes);
                return Map.of("schedule runs/s", n / seconds, "s to run them all", seconds);
            }
        };
    }

    /** {@code POST /api/v1/batches} on the launched API, one line per URL. */
    static Bench.Scenario enqueueText(Bench.Options options) throws Exception {
        return enqueueRest(options, "text/plain", urls -> String.join("\n", urls));
    }

    /** {@code POST /api/v1/batches} on the launched API, as {@code {"urls": [...]}}. */
    static Bench.Scenario enqueueJson(Bench.Options options) throws Exception {
        return enqueueRest(options, "application/json",
                urls -> "{\"urls\": [\"" + String.join("\", \"", urls) + "\"]}");
    }

    private static Bench.Scenario enqueueRest(Bench.Options options, String contentType,
            java.util.function.Function<List<String>, String> body) throws Exception {
        BenchDatabase db = new BenchDatabase();
        int port = Launched.freePort();
        Launched api = Launched.api(db.url, port);
        HttpClient http = HttpClient.newHttpClient();
        return new Bench.Scenario() {
            @Override
            public Map<String, Double> run(boolean warmUp) throws Exception {
                int n = options.jobs(warmUp);
                List<String> urls = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    urls.add(BenchDatabase.exampleJob(i).url());
                }
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/batches"))
                        .header("Content-Type", contentType)
                        .POST(HttpRequest.BodyPublishers.ofString(body.apply(urls))).build();
                long before = db.count("SELECT count(*) FROM fetchq.job");
                long started = System.nanoTime();
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                double seconds = (System.nanoTime() - started) / 1e9;
                check(response.statusCode() == 201, "enqueue answered " + response.statusCode() + ": "
                        + response.body().substring(0, Math.min(300, response.body().length())));
                check(db.count("SELECT count(*) FROM fetchq.job") - before == n, "enqueue inserted every job");
                return Map.of(JOBS_PER_S, n / seconds);
            }

            @Override
            public void close() throws Exception {
                api.close();
                db.close();
            }
        };
    }

    /** Clients of submit-concurrent, each sending its next job as soon as the last one is answered. */
    static final int SUBMIT_CLIENTS = 16;

    /**
     * {@code --submits} single jobs ({@code POST /api/v1/jobs}) sent by {@value #SUBMIT_CLIENTS}
     * clients at once to the launched API, each as fast as it is answered: the intake of many small
     * callers, where every submit is a transaction of its own.
     */
    static Bench.Scenario submitConcurrent(Bench.Options options) throws Exception {
        BenchDatabase db = new BenchDatabase();
        int port = Launched.freePort();
        Launched api = Launched.api(db.url, port);
        HttpClient http = HttpClient.newHttpClient();
        URI jobs = URI.create("http://127.0.0.1:" + port + "/api/v1/jobs");
        return new Bench.Scenario() {
            @Override
            public Map<String, Double> run(boolean warmUp) throws Exception {
                int n = warmUp ? Math.min(500, options.submits()) : options.submits();
                long before = db.count("SELECT count(*) FROM fetchq.job");
                AtomicInteger next = new AtomicInteger();
                ExecutorService clients = Executors.newFixedThreadPool(SUBMIT_CLIENTS);
                long started = System.nanoTime();
                List<Future<Void>> running = new ArrayList<>();
                for (int c = 0; c < SUBMIT_CLIENTS; c++) {
                    running.add(clients.submit(() -> {
                        for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                            HttpRequest request = HttpRequest.newBuilder(jobs).header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(
                                            "{\"url\": \"" + BenchDatabase.exampleJob(i).url() + "\"}"))
                                    .build();
                            int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                            check(status == 201, "submit answered " + status);
                        }
                        return null;
                    }));
                }
                for (Future<Void> client : running) {
                    client.get();
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                clients.shutdown();
                check(db.count("SELECT count(*) FROM fetchq.job") - before == n, "every submit inserted its job");
                return Map.of(JOBS_PER_S, n / seconds);
            }

            @Override
            public void close() throws Exception {
                api.close();
                db.close();
            }
        };
    }

    /**
     * Single jobs submitted one by one at a steady rate to the launched API with two idle launched
     * workers; from SQL, creation to first attempt start.
     */
    static Bench.Scenario pickup(Bench.Options options) throws Exception {
        BenchDatabase db = new BenchDatabase();
        LoopbackSite site = new LoopbackSite();
        int port = Launched.freePort();
        Launched api = Launched.api(db.url, port);
        Launched w1 = Launched.worker("pickup-1", db.url);
        Launched w2 = Launched.worker("pickup-2", db.url);
        await(() -> db.count("SELECT count(*) FROM fetchq.workers WHERE state = 'running'") == 2,
                Duration.ofSeconds(120), "two workers to start");
        HttpClient http = HttpClient.newHttpClient();
        return new Bench.Scenario() {
            @Override
            public Map<String, Double> run(boolean warmUp) throws Exception {
                int n = warmUp ? Math.min(100, options.pickup()) : options.pickup();
                long after = db.count("SELECT coalesce(max(id), 0) FROM fetchq.job");
                long gap = 1_000_000_000L / options.pickupRate();
                long next = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/jobs"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"" + site.url("/pickup/" + i) + "\"}"))
                            .build();
                    int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                    check(status == 201, "pickup submit answered " + status);
                    next += gap;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(Duration.ofNanos(wait));
                    }
                }
                await(() -> db.count("SELECT count(*) FROM fetchq.job_results WHERE state IN ('queued', 'running')") == 0,
                        Duration.ofMinutes(5), "every pickup job to finish");
                Map<String, Double> latency = new LinkedHashMap<>();
                db.sql.sql("""
                        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)
                        FROM (SELECT extract(epoch FROM a.started_at - r.created_at) * 1000 AS ms
                              FROM fetchq.attempts a JOIN fetchq.job_results r USING (job_id)
                              WHERE a.attempt = 1 AND r.job_id > ?) t
                        """).param(after).query(rs -> {
                            latency.put(P50_MS, rs.getDouble(1));
                            latency.put(P99_MS, rs.getDouble(2));
                        });
                return latency;
            }

            @Override
            public void close() throws Exception {
                w1.close();
                w2.close();
                api.close();
                site.close();
                db.close();
            }
        };
    }

    /**
     * Peak RSS of one launched worker holding {@code --in-flight} fetches that the site answers only
     * once all of them are in flight: with the JVM's default heap sizing, and with
     * {@code --memory-jvm}. A fresh process each time.
     */
    static Bench.Scenario memory(Bench.Options options) {
        return warmUp -> {
            int n = warmUp ? Math.min(200, options.inFlight()) : options.inFlight();
            Map<String, Double> peaks = new LinkedHashMap<>();
            peaks.put(PEAK_RSS_MIB + " (JVM defaults)", peakRss(n, List.of()));
            List<String> jvm = List.of(options.memoryJvm().split(" "));
            peaks.put(PEAK_RSS_MIB + " (" + options.memoryJvm() + ")", peakRss(n, jvm));
            return peaks;
        };
    }

    private static double peakRss(int n, List<String> jvm) throws Exception {
        try (BenchDatabase db = new BenchDatabase(); LoopbackSite site = new LoopbackSite()) {
            db.queue(n, i -> BenchDatabase.job(site.url("/slow/" + i), "127.0.0.1"));
            double peak;
            try (Launched worker = Launched.worker("memory", db.url, jvm, "--fetchq.worker.max-in-flight=" + n,
                    "--fetchq.worker.host-limits[127.0.0.1]=" + n)) {
                await(() -> site.slowHeld() == n, Duration.ofMinutes(5), n + " fetches in flight");
                site.releaseSlow();
                await(() -> db.count("SELECT count(*) FROM fetchq.queue") == 0, Duration.ofMinutes(5),
                        "the slow jobs to finish");
                peak = worker.peakRssMib();
            }
            check(db.count("SELECT count(*) FROM fetchq.job_results WHERE status_code = 200") == n,
                    "every slow fetch completed");
            return peak;
        }
    }

    static WorkerProperties workerSettings(Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>();
        settings.put("fetchq.worker.poll-interval", "20ms");
        settings.put("fetchq.worker.id", "bench");
        settings.put("fetchq.worker.max-in-flight", System.getProperty("bench.inflight", "256"));
        settings.put("fetchq.worker.claim-batch", System.getProperty("bench.claim", "128"));
        settings.put("fetchq.worker.completers", System.getProperty("bench.completers", "1"));
        settings.putAll(overrides);
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("fetchq.worker", WorkerProperties.class);
    }

    /**
     * Polls {@code condition} every 5 ms until it holds; fails after {@code limit}. Conditions that
     * query the database are polled while nothing is being measured, or are cheap.
     */
    static void await(BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("benchmark gave up waiting for " + what + " after " + limit);
            }
            Thread.sleep(5);
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("benchmark check failed: " + what);
        }
    }
}
