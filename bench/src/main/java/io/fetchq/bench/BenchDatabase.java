package io.fetchq.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.fetchq.db.JobQueries;
import io.fetchq.db.NewJob;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.RetentionQueries;
import io.fetchq.db.ScheduleQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.db.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import org.flywaydb.core.Flyway;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** A fresh, migrated database for one measured run, with fetchq's query classes over it. */
final class BenchDatabase implements AutoCloseable {

    /** Finished jobs written per statement when building a history. */
    private static final int HISTORY_CHUNK = 500_000;

    final String url;
    final HikariDataSource dataSource;
    final JdbcClient sql;
    final JobQueries jobs;
    final ScheduleQueries schedules;
    final QueueQueries queue;
    final WorkerQueries workers;
    final RetentionQueries retention;

    BenchDatabase() {
        url = TestDatabase.newDatabase();
        Flyway.configure().dataSource(url, null, null).schemas("fetchq").defaultSchema("fetchq")
                .createSchemas(true).locations("classpath:db/migration").load().migrate();
        dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(url);
        dataSource.setMaximumPoolSize(16);
        sql = JdbcClient.create(dataSource);
        JdbcTemplate template = new JdbcTemplate(dataSource);
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        jobs = new JobQueries(sql, template, tx);
        schedules = new ScheduleQueries(sql, template, tx);
        queue = new QueueQueries(template);
        workers = new WorkerQueries(sql);
        retention = new RetentionQueries(sql, tx);
    }

    /** Job {@code i} of the example set: GET jobs spread over 1,000 hosts, defaults as intake applies them. */
    static NewJob exampleJob(int i) {
        String host = "host" + (i % 1000) + ".example";
        return new NewJob("https://" + host + "/page/" + i, host, "GET", null, null, 0, null, 0, 3, 60_000, 1 << 20,
                true, true, List.of(), false, null, null, null);
    }

    /** A GET job for {@code url} that extracts the page title, defaults as intake applies them. */
    static NewJob job(String url, String host) {
        return new NewJob(url, host, "GET", null, null, 0, null, 0, 3, 60_000, 1 << 20, true, true, List.of("title"),
                false, null, null, null);
    }

    static List<NewJob> jobs(int n, IntFunction<NewJob> job) {
        List<NewJob> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(job.apply(i));
        }
        return list;
    }

    /** Queues {@code n} example jobs, as intake would. */
    void queue(int n) {
        queue(n, BenchDatabase::exampleJob);
    }

    void queue(int n, IntFunction<NewJob> job) {
        List<NewJob> all = jobs(n, job);
        for (int from = 0; from < n; from += 100_000) {
            jobs.insertBatch(all.subList(from, Math.min(n, from + 100_000)));
        }
    }

    /**
     * Adds {@code n} finished jobs, each with its attempt row and a 2 KiB stored body for one in
     * ten, finished {@code daysAgo} days ago: what a busy installation keeps within its retention
     * period. Then vacuums, as autovacuum would have.
     */
    void addHistory(int n, int daysAgo) {
        long started = System.nanoTime();
        for (int from = 1; from <= n; from += HISTORY_CHUNK) {
            int to = Math.min(n, from + HISTORY_CHUNK - 1);
            sql.sql("""
                    WITH b AS (
                        INSERT INTO fetchq.batch (total, created_at) VALUES (:total, now() - :days * interval '1 day')
                        RETURNING id
                    ), j AS (
                        INSERT INTO fetchq.job (batch_id, url, host, max_attempts, timeout_ms, max_body_bytes, state,
                                                attempts, created_at, run_at, started_at, finished_at, status_code,
                                                content_type, body_bytes, body_truncated, body_sha256, title, total_ms)
                        SELECT b.id, 'https://host' || g % 1000 || '.example/old/' || g, 'host' || g % 1000 || '.example',
                               3, 60000, 1048576, 'completed', 1, now() - :days * interval '1 day',
                               now() - :days * interval '1 day', now() - :days * interval '1 day',
                               now() - :days * interval '1 day', 200, 'text/html', 2048, false,
                               md5(g::text), 'old page', 40
                        FROM b, generate_series(:from, :to) g
                        RETURNING id, started_at, finished_at
                    ), a AS (
                        INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, status_code,
                                                    content_type, body_bytes, dns_ms, connect_ms, ttfb_ms, total_ms,
                                                    remote_ip)
                        SELECT id, 1, 'history', started_at, finished_at, 200, 'text/html', 2048, 1, 1, 30, 40,
                               '192.0.2.1'
                        FROM j
                    )
                    INSERT INTO fetchq.body (job_id, content_type, body)
                    SELECT id, 'text/html', convert_to(repeat(md5(id::text), 64), 'UTF8') FROM j WHERE id % 10 = 0
                    """).param("total", to - from + 1).param("days", daysAgo).param("from", from).param("to", to)
                    .update();
        }
        sql.sql("VACUUM ANALYZE fetchq.job").update();
        sql.sql("VACUUM ANALYZE fetchq.attempt").update();
        sql.sql("VACUUM ANALYZE fetchq.batch").update();
        System.out.printf(Locale.ROOT, "    history of %,d finished jobs built in %.0f s%n", n,
                (System.nanoTime() - started) / 1e9);
    }

    long count(String query) {
        return sql.sql(query).query(Long.class).single();
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
