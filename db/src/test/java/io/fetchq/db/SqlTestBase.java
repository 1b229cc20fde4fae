package io.fetchq.db;

import com.zaxxer.hikari.HikariDataSource;
import io.fetchq.db.testing.JobBuilder;
import io.fetchq.db.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The fixture of the SQL tests: one database per test JVM, migrated once, and the real query
 * classes built by hand on it. Every test starts from empty tables. Time is never waited for: a
 * test moves {@code run_at} or {@code lease_expires_at} into the past with an UPDATE.
 */
abstract class SqlTestBase {

    static final String WORKER = "w1";
    static final Duration LEASE = Duration.ofMinutes(1);

    static final HikariDataSource dataSource;
    static final JdbcTemplate jdbc;
    static final JdbcClient sql;
    static final TransactionTemplate tx;
    static final JobQueries jobs;
    static final QueueQueries queue;
    static final WorkerQueries workers;
    static final RetentionQueries retention;

    static {
        String url = TestDatabase.sharedUrl();
        MigrationsTest.flyway(url).migrate();
        dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(url);
        dataSource.setMaximumPoolSize(8);
        Runtime.getRuntime().addShutdownHook(new Thread(dataSource::close));
        jdbc = new JdbcTemplate(dataSource);
        sql = JdbcClient.create(dataSource);
        tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        jobs = new JobQueries(sql, jdbc, tx);
        queue = new QueueQueries(jdbc);
        workers = new WorkerQueries(sql);
        retention = new RetentionQueries(sql, tx);
    }

    @BeforeEach
    void emptyTables() {
        sql.sql("""
                TRUNCATE fetchq.queue, fetchq.body, fetchq.body_content, fetchq.body_release, fetchq.url_state, fetchq.attempt, fetchq.job, fetchq.batch, fetchq.worker,
                         fetchq.api_key, fetchq.host, fetchq.host_share, fetchq.schedule, fetchq.robots_txt, fetchq.crawl,
                         fetchq.crawl_host, fetchq.crawl_frontier, fetchq.crawl_link CASCADE""").update();
    }

    /** A job as the API would store it (GET, 3 attempts, due now, host from the URL), with overrides. */
    static JobBuilder aJob(String url) {
        return new JobBuilder(url, jobs);
    }

    /** Claims due jobs as a worker would: 10 at most, from a window of 40, 8 per host. */
    static List<ClaimedJob> claimDue() {
        return queue.claimDue(WORKER, 10, 40, 8, Map.of(), LEASE);
    }

    /** Claims due jobs and answers the first. */
    static ClaimedJob claimOne() {
        return claimDue().getFirst();
    }

    /** Moves the lease of the job's claim into the past, as if its worker had stopped renewing it. */
    static void expireLease(long jobId) {
        sql.sql("UPDATE fetchq.queue SET lease_expires_at = now() - interval '1 second' WHERE job_id = :id")
                .param("id", jobId).update();
    }

    /** Moves the job's due time into the past, and promotes it as a worker would once it is due. */
    static void makeDue(long jobId) {
        sql.sql("UPDATE fetchq.queue SET run_at = now() - interval '1 second' WHERE job_id = :id")
                .param("id", jobId).update();
        queue.promoteDue(1000);
    }

    static AttemptRecord record(Integer status, String errorKind, String errorMessage, Integer totalMs,
            String remoteIp) {
        Instant now = Instant.now();
        return new AttemptRecord(now, now, status, errorKind, errorMessage, null, null, null, null, totalMs, remoteIp,
                "[]");
    }

    static Completion.Completed completed(ClaimedJob job) {
        return completed(job, 200);
    }

    /** A final response with a body of "ok". */
    static Completion.Completed completed(ClaimedJob job, int status) {
        return new Completion.Completed(job.claim(), record(status, null, null, 2, "127.0.0.1"),
                new Payload("text/plain", 2L, false, job.url(), "ab", null, null, "ok".getBytes(), null, null));
    }

    /** An attempt that ended with a retryable status, due again after one second. */
    static Completion.RetryAt retry(ClaimedJob job, int status) {
        return new Completion.RetryAt(job.claim(), record(status, "http_status", "HTTP " + status, 1, null),
                new Payload(null, 0L, false, null, null, null, null, null, null, null), 1000);
    }

    /** The job's row of {@code fetchq.job_results}. */
    static Map<String, Object> result(long jobId) {
        return sql.sql("SELECT * FROM fetchq.job_results WHERE job_id = :id").param("id", jobId).query().singleRow();
    }

    /** The job's rows of {@code fetchq.attempts}, in attempt order. */
    static List<Map<String, Object>> attempts(long jobId) {
        return sql.sql("SELECT * FROM fetchq.attempts WHERE job_id = :id ORDER BY attempt").param("id", jobId)
                .query().listOfRows();
    }

    /** The job's row of {@code fetchq.queue}, if it has one (only unfinished jobs do). */
    static Optional<Map<String, Object>> queueRow(long jobId) {
        return sql.sql("SELECT * FROM fetchq.queue WHERE job_id = :id").param("id", jobId).query().listOfRows()
                .stream().findFirst();
    }

    /** Seconds from now until the queued job is due. */
    static double secondsUntilDue(long jobId) {
        return sql.sql("SELECT extract(epoch FROM run_at - now())::float8 FROM fetchq.queue WHERE job_id = :id")
                .param("id", jobId).query(Double.class).single();
    }

    static long count(String table) {
        return sql.sql("SELECT count(*) FROM " + table).query(Long.class).single();
    }
}
