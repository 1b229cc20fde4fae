package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.ChaosServer;
import io.fetchq.embedded.EmbeddedDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The worker application as it runs: health probes that follow the database, info, and Prometheus
 * metrics of a real fetch. Its own embedded PostgreSQL, so that the test can stop it.
 */
class WorkerMonitoringTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path work;

    private EmbeddedDatabase database;
    private ConfigurableApplicationContext worker;
    private ChaosServer site;

    @AfterEach
    void stop() throws IOException {
        if (worker != null) {
            worker.close();
        }
        if (site != null) {
            site.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void probesFollowTheDatabaseAndMetricsShowTheWork() throws Exception {
        int pgPort = freePort();
        database = EmbeddedDatabase.start(work.resolve("pg"), pgPort);
        site = new ChaosServer();
        worker = new SpringApplicationBuilder(FetchqWorkerApplication.class).run(
                "--spring.datasource.url=" + database.jdbcUrl(), "--server.port=0", "--spring.main.keep-alive=false",
                "--spring.datasource.hikari.connection-timeout=1000",
                "--fetchq.worker.poll-interval=100ms", "--fetchq.fetch.allowed-networks=127.0.0.0/8",
                "--fetchq.worker.metrics-hosts=127.0.0.1", "--fetchq.worker.id=monitored",
                "--fetchq.retention.interval=1s");
        int port = ((WebServerApplicationContext) worker).getWebServer().getPort();
        String base = "http://127.0.0.1:" + port + "/actuator";

        assertThat(get(base + "/health/liveness").statusCode()).isEqualTo(200);
        assertThat(get(base + "/health/readiness").statusCode()).isEqualTo(200);
        String info = get(base + "/info").body();
        assertThat(info).contains("\"build\"").contains("\"version\"");

        execute("""
                INSERT INTO fetchq.job (id, url, host, max_attempts, timeout_ms, max_body_bytes)
                VALUES (1, '%s', '127.0.0.1', 3, 10000, 1048576)""".formatted(site.url("/page/metrics")));
        execute("INSERT INTO fetchq.queue (job_id, priority, run_at, host, attempt_limit) VALUES (1, 0, now(), '127.0.0.1', 3)");
        Awaitility.await("job done").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> "completed".equals(query("SELECT state FROM fetchq.job WHERE id = 1")));

        String metrics = get(base + "/prometheus").body();
        assertMetric(metrics, "fetchq_attempts_total\\{[^}]*error_kind=\"none\"[^}]*outcome=\"completed\"[^}]*} 1\\.0");
        assertMetric(metrics, "fetchq_claimed_jobs_total\\{[^}]*} 1\\.0");
        assertMetric(metrics, "fetchq_fetch_duration_seconds_count\\{[^}]*phase=\"total\"[^}]*} 1");
        assertMetric(metrics, "fetchq_fetch_duration_seconds_bucket\\{[^}]*phase=\"ttfb\"[^}]*} 1");
        assertMetric(metrics, "fetchq_in_flight\\{[^}]*} 0\\.0");
        assertMetric(metrics, "resilience4j_bulkhead_available_concurrent_calls\\{[^}]*name=\"fetchq-global\"[^}]*} 256\\.0");
        assertMetric(metrics, "resilience4j_circuitbreaker_state\\{[^}]*name=\"127\\.0\\.0\\.1\"[^}]*state=\"closed\"[^}]*} 1\\.0");
        assertMetric(metrics, "fetchq_hosts_breaker\\{[^}]*state=\"closed\"[^}]*} 1\\.0");
        assertThat(metrics).as("no series labelled with a URL").doesNotContain("/page/metrics");

        // The database goes away: the worker stays alive but is not ready; it is again once it is back.
        database.close();
        Awaitility.await("not ready").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(base + "/health/readiness").statusCode() == 503);
        assertThat(get(base + "/health/liveness").statusCode()).isEqualTo(200);
        Awaitility.await("the loops count their failures").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    String scraped = get(base + "/prometheus").body();
                    return Pattern.compile("(?m)^fetchq_loop_failures_total\\{[^}]*loop=\"claim\"[^}]*} [1-9]").matcher(scraped).find()
                            && Pattern.compile("(?m)^fetchq_loop_failures_total\\{[^}]*loop=\"retention\"[^}]*} [1-9]")
                                    .matcher(scraped).find();
                });
        database = EmbeddedDatabase.start(work.resolve("pg"), pgPort);
        Awaitility.await("ready again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(base + "/health/readiness").statusCode() == 200);
    }

    private static void assertMetric(String metrics, String regex) {
        assertThat(Pattern.compile("(?m)^" + regex).matcher(metrics).find())
                .as("a line matching %s in\n%s", regex, metrics).isTrue();
    }

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(database.jdbcUrl())) {
            c.createStatement().execute(sql);
        }
    }

    private String query(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(database.jdbcUrl()); ResultSet rs = c.createStatement().executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
