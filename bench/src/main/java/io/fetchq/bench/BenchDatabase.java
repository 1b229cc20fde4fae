package io.fetchq.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.fetchq.db.JobQueries;
import io.fetchq.db.NewJob;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.db.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** A fresh, migrated database for one measured run, with fetchq's query classes over it. */
final class BenchDatabase implements AutoCloseable {

    final String url;
    final HikariDataSource dataSource;
    final JdbcClient sql;
    final JobQueries jobs;
    final QueueQueries queue;
    final WorkerQueries workers;

    BenchDatabase() {
        url = TestDatabase.newDatabase();
        Flyway.configure().dataSource(url, null, null).schemas("fetchq").defaultSchema("fetchq")
                .createSchemas(true).locations("classpath:db/migration").load().migrate();
        dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(url);
        dataSource.setMaximumPoolSize(16);
        sql = JdbcClient.create(dataSource);
        JdbcTemplate template = new JdbcTemplate(dataSource);
        jobs = new JobQueries(sql, template, new TransactionTemplate(new DataSourceTransactionManager(dataSource)));
        queue = new QueueQueries(template);
        workers = new WorkerQueries(sql);
    }

    /** {@code n} GET jobs over 1,000 hosts, as intake would store them. */
    static List<NewJob> jobs(int n) {
        List<NewJob> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String host = "host" + (i % 1000) + ".example";
            list.add(new NewJob("https://" + host + "/page/" + i, host, "GET", null, null, 0, null, 0, 3, 60_000,
                    1 << 20, true, true, List.of(), null, null, null));
        }
        return list;
    }

    void queue(int n) {
        List<NewJob> all = jobs(n);
        for (int from = 0; from < n; from += 100_000) {
            jobs.insertBatch(all.subList(from, Math.min(n, from + 100_000)));
        }
    }

    long count(String query) {
        return sql.sql(query).query(Long.class).single();
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
