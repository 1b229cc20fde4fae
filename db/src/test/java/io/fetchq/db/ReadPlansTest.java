package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.fetchq.db.testing.ExplainingDataSource;
import io.fetchq.db.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Every read the API serves, planned by PostgreSQL over a history of 1,000,000 finished jobs (with
 * their attempts, a body for one in ten, 10,000 batches, two tenants, 1,000 hosts) and a queue of
 * unfinished ones: none may read a big table from end to end. The SQL is the real code's, caught
 * as it runs ({@link ExplainingDataSource}) and planned with its own parameters.
 */
class ReadPlansTest {

    private static final int HISTORY = 1_000_000;
    private static final int BATCHES = 10_000;
    /** A table that grows with the history: a sequential scan of it reads everything ever kept. */
    private static final Pattern FULL_SCAN = Pattern.compile("Seq Scan on (job|attempt|body|batch|job_count|job_lookup)\\b");

    private static HikariDataSource pool;
    private static ExplainingDataSource explaining;
    private static JobQueries jobs;
    private static BatchQueries batches;
    private static StatsQueries stats;
    private static long lastBatch;

    @BeforeAll
    static void history() {
        String url = TestDatabase.newDatabase();
        MigrationsTest.flyway(url).migrate();
        pool = new HikariDataSource();
        pool.setJdbcUrl(url);
        pool.setMaximumPoolSize(4);
        JdbcClient setup = JdbcClient.create(pool);
        setup.sql("""
                INSERT INTO fetchq.batch (id, tenant, total, created_at)
                SELECT b, CASE WHEN b % 10 = 0 THEN 'acme' ELSE 'default' END, :per, now() - interval '20 days'
                FROM generate_series(1, :batches) b""")
                .param("batches", BATCHES).param("per", HISTORY / BATCHES).update();
        setup.sql("""
                INSERT INTO fetchq.job (id, tenant, batch_id, url, host, max_attempts, timeout_ms, max_body_bytes, state,
                                        attempts, created_at, started_at, finished_at, status_code, error_kind, total_ms)
                SELECT g, CASE WHEN ((g - 1) / :per + 1) % 10 = 0 THEN 'acme' ELSE 'default' END, (g - 1) / :per + 1,
                       'https://h' || g % 1000 || '.example/' || g, 'h' || g % 1000 || '.example', 3, 60000, 1048576,
                       s.state, 1, f.at - interval '1 second', f.at - interval '1 second', f.at,
                       CASE WHEN s.state = 'completed' THEN 200 END,
                       CASE WHEN s.state = 'failed' THEN 'timeout' WHEN s.state = 'cancelled' THEN 'cancelled' END, 900
                FROM generate_series(1, :n) g
                CROSS JOIN LATERAL (SELECT CASE WHEN g % 20 = 0 THEN 'failed' WHEN g % 50 = 1 THEN 'cancelled'
                                                ELSE 'completed' END AS state) s
                CROSS JOIN LATERAL (SELECT now() - interval '20 days' + g * (interval '20 days' / :n) AS at) f""")
                .param("n", HISTORY).param("per", HISTORY / BATCHES).update();
        setup.sql("""
                INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, status_code, error_kind)
                SELECT id, 1, 'w1', started_at, finished_at, status_code, error_kind FROM fetchq.job""").update();
        setup.sql("""
                INSERT INTO fetchq.body (job_id, content_type, body)
                SELECT id, 'text/html', convert_to(repeat('<p>history</p>', 20), 'UTF8') FROM fetchq.job WHERE id % 10 = 0""")
                .update();
        setup.sql("SELECT setval(pg_get_serial_sequence('fetchq.job', 'id'), :n)").param("n", HISTORY).query().listOfRows();
        setup.sql("SELECT setval(pg_get_serial_sequence('fetchq.batch', 'id'), :b)").param("b", BATCHES).query().listOfRows();

        // Today's work: a batch of 5,000 being fetched, 200 of its jobs running.
        JdbcTemplate template = new JdbcTemplate(pool);
        JobQueries intake = new JobQueries(setup, template, new TransactionTemplate(new DataSourceTransactionManager(pool)));
        List<NewJob> today = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            today.add(new NewJob("https://h" + i % 1000 + ".example/today/" + i, "h" + i % 1000 + ".example", "GET", null,
                    null, 0, null, 0, 3, 60_000, 1_048_576, true, true, List.of(), false, null, null, null));
        }
        lastBatch = intake.insertBatch(today).id();
        new QueueQueries(template).claimDue("w1", 200, 400, 200, Map.of(), Duration.ofMinutes(5));
        setup.sql("VACUUM ANALYZE").update();

        explaining = new ExplainingDataSource(pool);
        DataSource planned = explaining.dataSource();
        JdbcTemplate plannedTemplate = new JdbcTemplate(planned);
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(planned));
        jobs = new JobQueries(JdbcClient.create(planned), plannedTemplate, tx,
                new Notifier(plannedTemplate, JobQueries.NOTIFY_CHANNEL, Duration.ZERO), DbProperties.DEFAULTS);
        batches = new BatchQueries(JdbcClient.create(planned), plannedTemplate, tx, DbProperties.DEFAULTS);
        stats = new StatsQueries(plannedTemplate, DbProperties.DEFAULTS);
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    /** The plans of what {@code reads} ran: each read at least one query, none a full scan of a big table. */
    private static void assertIndexed(String what, Runnable reads) {
        explaining.take();
        reads.run();
        List<ExplainingDataSource.Planned> planned = explaining.take();
        assertThat(planned).as("%s: queries run", what).isNotEmpty();
        for (ExplainingDataSource.Planned p : planned) {
            System.out.println("-- " + what + "\n" + p.sql().strip() + "\n" + p.plan());
            assertThat(FULL_SCAN.matcher(p.plan()).find())
                    .as("%s reads a big table whole:%n%s%n%s", what, p.sql(), p.plan()).isFalse();
        }
    }

    @Test
    void aJobItsAttemptsAndItsBodyAreReadByKey() {
        assertIndexed("job", () -> assertThat(jobs.getById(500_010, "default")).isPresent());
        assertIndexed("job done?", () -> assertThat(jobs.isFinal(500_010)).isTrue());
        assertIndexed("attempts", () -> assertThat(jobs.attemptsOf(500_010)).hasSize(1));
        assertIndexed("body", () -> assertThat(jobs.bodyOf(500_010)).isPresent());
    }

    @Test
    void everyListingFilterPagesThroughAnIndex() {
        assertIndexed("all jobs (admin)", () -> assertThat(jobs.list(filter(null, null, null, null, 0))).hasSize(100));
        assertIndexed("a tenant's jobs", () -> assertThat(jobs.list(filter("acme", null, null, null, 0))).hasSize(100));
        assertIndexed("a tenant's jobs, page 3,000", () -> assertThat(jobs.list(filter("acme", null, null, null, 300_000)))
                .hasSize(100));
        for (String state : List.of("completed", "failed", "cancelled")) {
            assertIndexed(state + " jobs", () -> assertThat(jobs.list(filter(null, state, null, null, 0))).hasSize(100));
            assertIndexed("a tenant's " + state + " jobs",
                    () -> assertThat(jobs.list(filter("acme", state, null, null, 0))).hasSize(100));
        }
        assertIndexed("queued jobs", () -> assertThat(jobs.list(filter(null, "queued", null, null, 0))).hasSize(100));
        assertIndexed("running jobs", () -> assertThat(jobs.list(filter("default", "running", null, null, 0))).hasSize(100));
        assertIndexed("a host's jobs", () -> assertThat(jobs.list(filter(null, null, null, "h7.example", 0))).hasSize(100));
        assertIndexed("a tenant's jobs of a host",
                () -> assertThat(jobs.list(filter("acme", null, null, "h950.example", 0))).hasSize(100));
        assertIndexed("a batch's jobs", () -> assertThat(jobs.list(filter(null, null, 4_321L, null, 0))).hasSize(100));
        assertIndexed("a batch's failed jobs", () -> assertThat(jobs.list(filter("default", "failed", 4_321L, null, 0)))
                .hasSize(5));
    }

    @Test
    void batchesAreReadFromTheirCountsNotTheirJobs() {
        assertIndexed("a batch", () -> assertThat(batches.getById(4_321, null)).isPresent()
                .hasValueSatisfying(b -> assertThat(b.completed()).isEqualTo(93)));
        assertIndexed("today's batch", () -> assertThat(batches.getById(lastBatch, null)).isPresent()
                .hasValueSatisfying(b -> assertThat(b.running()).isEqualTo(200)));
        assertIndexed("batch done?", () -> assertThat(batches.isDone(lastBatch)).isFalse());
        assertIndexed("batch exists?", () -> assertThat(batches.exists(4_321, "default")).isTrue());
        assertIndexed("newest batches", () -> assertThat(batches.listRecent(Long.MAX_VALUE, 20, null)).hasSize(20));
        assertIndexed("a tenant's newest batches", () -> assertThat(batches.listRecent(Long.MAX_VALUE, 20, "acme"))
                .hasSize(20));
        assertIndexed("an export page", () -> {
            List<JobRow> rows = new ArrayList<>();
            jobs.forEachResult(4_321, null, rows::add);
            assertThat(rows).hasSize(100);
        });
    }

    @Test
    void statsAndHostsReadCountsAndRecentWindowsNotTheHistory() {
        assertIndexed("stats", () -> {
            StatsQueries.Stats s = stats.read();
            assertThat(s.jobs().get("completed") + s.jobs().get("failed") + s.jobs().get("cancelled"))
                    .isEqualTo(HISTORY);
            assertThat(s.jobs().get("running")).isEqualTo(200);
            assertThat(s.jobs().get("queued")).isEqualTo(4_800);
        });
        assertIndexed("hosts", () -> assertThat(stats.hosts(20, Duration.ofSeconds(30))).hasSize(20));
        assertIndexed("a tenant's hosts", () -> assertThat(stats.hosts(20, "default", Duration.ofSeconds(30))).hasSize(20));
        assertIndexed("hosts waiting longest", () -> stats.waiting(10, Duration.ofSeconds(30)));
    }

    @Test
    void theRescuerReadsOnlyTheRunningRows() {
        QueueQueries planned = new QueueQueries(new JdbcTemplate(explaining.dataSource()));
        explaining.take();
        assertThat(planned.rescueExpired(1000).requeued()).isZero();
        String plan = explaining.take().getFirst().plan();
        System.out.println("-- rescue\n" + plan);
        assertThat(plan).contains("queue_running").doesNotContain("Seq Scan on queue");
    }

    private static JobFilter filter(String tenant, String state, Long batch, String host, long after) {
        return new JobFilter(tenant, state, batch, host, after, 100);
    }
}
