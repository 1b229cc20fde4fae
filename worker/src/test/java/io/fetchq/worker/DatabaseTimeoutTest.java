package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.fetchq.db.DbConfiguration;
import io.fetchq.db.DbProperties;
import io.fetchq.db.HostLedger;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.db.testing.FreezingProxy;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.fetch.HttpFetcher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A database connection that stops answering (a half-open connection after a failover): the
 * statement on it is given up within {@code fetchq.db.socket-timeout}, the connection dropped, and
 * the worker carries on with fresh ones.
 */
class DatabaseTimeoutTest extends WorkerTestBase {

    @Test
    void aConnectionThatStopsAnsweringIsAbandonedWithinTheSocketTimeoutAndTheWorkerCarriesOn() throws Exception {
        URI db = URI.create(dataSource.getJdbcUrl().substring("jdbc:".length()));
        DbProperties bounds = new DbProperties(Duration.ofSeconds(2), Duration.ofSeconds(1), true, Duration.ofSeconds(1),
                Duration.ofMillis(10), 10_000);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FreezingProxy proxy = new FreezingProxy(db.getHost(), db.getPort());
                HikariDataSource throughProxy = new HikariDataSource()) {
            throughProxy.setJdbcUrl(dataSource.getJdbcUrl().replace(":" + db.getPort() + "/", ":" + proxy.port() + "/"));
            throughProxy.setMaximumPoolSize(4);
            DbConfiguration.applyTo(throughProxy, bounds);
            assertThat(JdbcClient.create(throughProxy).sql("SHOW statement_timeout").query(String.class).single())
                    .as("fetchq.db.statement-timeout on every session").isEqualTo("1s");

            WorkerProperties settings = settings("lease", "3s");
            var fetch = fetchSettings();
            Worker worker = new Worker(settings, new QueueQueries(new JdbcTemplate(throughProxy)),
                    new WorkerQueries(JdbcClient.create(throughProxy)), new HostLedger(new JdbcTemplate(throughProxy)),
                    new HttpFetcher(new UrlPolicy(fetch.allowPrivateNetworks(), fetch.allowedNetworks()), fetch,
                            settings.maxInFlight(), TEST_DNS), new WorkerMetrics(registry));
            worker.start();
            try {
                long before = aJob(server.url("/page/before")).submit();
                assertState(awaitFinal(before, Duration.ofSeconds(20)), "completed");

                // Every connection open now stops answering, mid-use or idle in the pool; new ones work.
                int connectionsBefore = proxy.accepted.get();
                proxy.freeze();
                long after = aJob(server.url("/page/after")).submit();

                assertState(awaitFinal(after, Duration.ofSeconds(30)), "completed");
                assertThat(proxy.accepted.get()).as("fresh connections opened").isGreaterThan(connectionsBefore);
                assertThat(registry.find("fetchq.loop.failures").counters().stream()
                        .mapToDouble(c -> c.count()).sum()).as("passes that met a frozen connection").isPositive();
            } finally {
                worker.close();
            }
        }
    }
}
