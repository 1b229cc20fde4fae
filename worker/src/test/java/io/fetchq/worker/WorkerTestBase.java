package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.fetchq.db.JobQueries;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.db.testing.ChaosServer;
import io.fetchq.db.testing.JobBuilder;
import io.fetchq.db.testing.TestDatabase;
import io.fetchq.url.FetchProperties;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.fetch.HttpFetcher;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import okhttp3.Dns;
import org.awaitility.Awaitility;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Workers built by hand against the test database and a {@link ChaosServer}. Host names ending in
 * {@code .test} resolve to loopback and {@code .invalid} ones fail to resolve; a name ending in
 * {@code .rebind.test} resolves to loopback the first time and to 10.0.0.7 ever after (DNS
 * rebinding). Loopback is an allowed network, other private ranges stay blocked.
 */
abstract class WorkerTestBase {

    static HikariDataSource dataSource;
    static JdbcClient sql;
    static JobQueries jobs;
    static QueueQueries queue;
    static WorkerQueries workers;

    protected ChaosServer server;
    private final List<Worker> started = new ArrayList<>();

    /** Lookups of each {@code .rebind.test} name so far. */
    static final Map<String, java.util.concurrent.atomic.AtomicInteger> REBIND_LOOKUPS =
            new java.util.concurrent.ConcurrentHashMap<>();

    static final Dns TEST_DNS = host -> {
        if (host.endsWith(".invalid")) {
            throw new UnknownHostException(host + ": no such host");
        }
        if (host.endsWith(".rebind.test")) {
            int lookup = REBIND_LOOKUPS.computeIfAbsent(host, h -> new java.util.concurrent.atomic.AtomicInteger())
                    .getAndIncrement();
            return List.of(lookup == 0 ? InetAddress.getLoopbackAddress() : InetAddress.getByName("10.0.0.7"));
        }
        if (host.endsWith(".test")) {
            return List.of(InetAddress.getLoopbackAddress());
        }
        return Dns.SYSTEM.lookup(host);
    };

    @BeforeAll
    static void database() {
        String url = TestDatabase.newDatabase();
        Flyway.configure().dataSource(url, null, null).schemas("fetchq").defaultSchema("fetchq")
                .createSchemas(true).locations("classpath:db/migration").load().migrate();
        dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(url);
        dataSource.setMaximumPoolSize(8);
        sql = JdbcClient.create(dataSource);
        JdbcTemplate template = new JdbcTemplate(dataSource);
        jobs = new JobQueries(sql, template, new TransactionTemplate(new DataSourceTransactionManager(dataSource)));
        queue = new QueueQueries(template);
        workers = new WorkerQueries(sql);
    }

    @AfterAll
    static void closeDatabase() {
        dataSource.close();
    }

    @BeforeEach
    void startServer() throws Exception {
        sql.sql("TRUNCATE fetchq.queue, fetchq.body, fetchq.body_content, fetchq.body_release, fetchq.url_state, fetchq.attempt, fetchq.job, fetchq.batch, fetchq.worker, fetchq.host, fetchq.host_share, fetchq.robots_txt").update();
        server = new ChaosServer();
    }

    @AfterEach
    void stopAll() throws Exception {
        for (Worker w : started) {
            w.close();
        }
        server.close();
    }

    /** Worker settings as a user would write them, with fast test defaults. */
    static WorkerProperties settings(String... keyValues) {
        Map<String, String> map = new HashMap<>();
        map.put("fetchq.worker.poll-interval", "50ms");
        map.put("fetchq.worker.retry-base", "100ms");
        map.put("fetchq.worker.shutdown-grace", "2s");
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put("fetchq.worker." + keyValues[i], keyValues[i + 1]);
        }
        return new Binder(new MapConfigurationPropertySource(map)).bindOrCreate("fetchq.worker", WorkerProperties.class);
    }

    static FetchProperties fetchSettings(String... keyValues) {
        Map<String, String> map = new HashMap<>();
        map.put("fetchq.fetch.allowed-networks", "127.0.0.0/8");
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put("fetchq.fetch." + keyValues[i], keyValues[i + 1]);
        }
        return new Binder(new MapConfigurationPropertySource(map)).bindOrCreate("fetchq.fetch", FetchProperties.class);
    }

    Worker startWorker(WorkerProperties settings) {
        return startWorker(settings, fetchSettings());
    }

    Worker startWorker(WorkerProperties settings, FetchProperties fetch) {
        return startWorker(settings, fetch, fetcher -> fetcher);
    }

    /** A worker whose real fetcher is wrapped by {@code around} (to inject a fault of our own making). */
    Worker startWorker(WorkerProperties settings, FetchProperties fetch,
            java.util.function.UnaryOperator<io.fetchq.worker.fetch.Fetcher> around) {
        return startWorker(settings, fetch, around, WorkerMetrics.none(), io.fetchq.worker.time.Ticker.SYSTEM);
    }

    /** A worker with its own meters and monotonic clock (host pauses, breakers, time connected). */
    Worker startWorker(WorkerProperties settings, WorkerMetrics metrics, io.fetchq.worker.time.Ticker ticker) {
        return startWorker(settings, fetchSettings(), fetcher -> fetcher, metrics, ticker);
    }

    private Worker startWorker(WorkerProperties settings, FetchProperties fetch,
            java.util.function.UnaryOperator<io.fetchq.worker.fetch.Fetcher> around, WorkerMetrics metrics,
            io.fetchq.worker.time.Ticker ticker) {
        UrlPolicy policy = new UrlPolicy(fetch.allowPrivateNetworks(), fetch.allowedNetworks());
        Worker worker = new Worker(settings, queue, workers, new io.fetchq.db.HostLedger(new JdbcTemplate(dataSource)),
                around.apply(new HttpFetcher(policy, fetch, settings.maxInFlight(), TEST_DNS)), metrics,
                java.time.Clock.systemUTC(), ticker);
        worker.start();
        started.add(worker);
        return worker;
    }

    /** A job as the API would store it, with overrides. */
    static JobBuilder aJob(String url) {
        return new JobBuilder(url, jobs);
    }

    /** Waits, polling, until the condition holds. */
    /** Whether every job of the batch is final. */
    static boolean batchDone(long batchId) {
        return sql.sql("SELECT done FROM fetchq.batch_progress WHERE batch_id = :id").param("id", batchId)
                .query(Boolean.class).single();
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        Awaitility.await(what).atMost(timeout).pollInterval(Duration.ofMillis(20)).until(condition::getAsBoolean);
    }

    /** The job's row in fetchq.job_results once it is final. */
    static Map<String, Object> awaitFinal(long jobId, Duration timeout) {
        await("job " + jobId + " final", timeout, () -> sql.sql(
                "SELECT state IN ('completed', 'failed', 'cancelled') FROM fetchq.job_results WHERE job_id = :id")
                .param("id", jobId).query(Boolean.class).single());
        return result(jobId);
    }

    static Map<String, Object> result(long jobId) {
        return sql.sql("SELECT * FROM fetchq.job_results WHERE job_id = :id").param("id", jobId).query().singleRow();
    }

    static List<Map<String, Object>> attempts(long jobId) {
        return sql.sql("SELECT * FROM fetchq.attempts WHERE job_id = :id ORDER BY attempt").param("id", jobId)
                .query().listOfRows();
    }

    static void assertState(Map<String, Object> row, String state) {
        assertThat(row.get("state")).as("state of %s", row).isEqualTo(state);
    }
}
