package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The one-command mode: no datasource configured, so the API runs its own PostgreSQL 17. */
class EmbeddedModeTest {

    @TempDir
    Path data;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void startsItsOwnPostgresAndKeepsJobsAcrossRestarts() throws Exception {
        String[] args = {
            "--fetchq.embedded.data-directory=" + data, "--fetchq.embedded.port=0", "--server.port=0",
            "--spring.datasource.url="  // explicitly empty: nothing configured
        };
        long jobId;
        try (ConfigurableApplicationContext api = FetchqApiApplication.run(args)) {
            String base = "http://127.0.0.1:" + api.getEnvironment().getProperty("local.server.port");
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/actuator/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"");

            JdbcClient sql = api.getBean(JdbcClient.class);
            assertThat(sql.sql("SHOW server_version").query(String.class).single()).startsWith("17.");

            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/jobs"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"https://example.com/kept\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).isEqualTo(201);
            jobId = sql.sql("SELECT max(id) FROM fetchq.job").query(Long.class).single();
        }
        try (ConfigurableApplicationContext api = FetchqApiApplication.run(args)) {
            JdbcClient sql = api.getBean(JdbcClient.class);
            assertThat(sql.sql("SELECT url FROM fetchq.job_results WHERE job_id = :id").param("id", jobId)
                    .query(String.class).single()).isEqualTo("https://example.com/kept");
        }
    }
}
