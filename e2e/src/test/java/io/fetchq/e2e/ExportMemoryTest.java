package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.embedded.EmbeddedDatabase;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A results export far larger than the API's heap: the API jar runs with a small {@code -Xmx} and
 * must stream 200,000 results (well over 100 MB of NDJSON) without holding them.
 */
class ExportMemoryTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final int JOBS = 200_000;
    private static final String HEAP = "-Xmx96m";

    @TempDir
    Path work;

    private EmbeddedDatabase database;
    private Process api;

    @AfterEach
    void stop() {
        if (api != null) {
            api.destroyForcibly();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void aBatchLargerThanTheHeapStreamsOut() throws Exception {
        int pgPort = Net.freePort();
        database = EmbeddedDatabase.start(work.resolve("pg"), pgPort);
        String jdbcUrl = "jdbc:postgresql://localhost:" + pgPort + "/postgres?user=postgres";
        int apiPort = Net.freePort();
        Path jar = ROOT.resolve("api/target/fetchq-api.jar");
        assertThat(jar).as("built jar (run `./mvnw verify`, which packages first)").exists();
        Path log = Files.createDirectories(ROOT.resolve("e2e/target/e2e-logs")).resolve("export-api.log");
        api = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElse("java"), HEAP,
                "-XX:TieredStopAtLevel=1", "-jar", jar.toString(), "--server.port=" + apiPort,
                "--spring.datasource.url=" + jdbcUrl, "--fetchq.worker.enabled=false",
                "--fetchq.security.allow-anonymous=true"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        Awaitility.await("API up").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.httpStatus("http://127.0.0.1:" + apiPort + "/actuator/health") == 200);

        long batch;
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
            var rs = s.executeQuery("INSERT INTO fetchq.batch (total) VALUES (" + JOBS + ") RETURNING id");
            rs.next();
            batch = rs.getLong(1);
            // Finished jobs with long titles and error messages: about 700 bytes of NDJSON each.
            s.execute("""
                    INSERT INTO fetchq.job (batch_id, url, host, max_attempts, timeout_ms, max_body_bytes, state,
                                            attempts, started_at, finished_at, status_code, content_type, body_bytes,
                                            body_truncated, body_sha256, title, final_url, total_ms)
                    SELECT %d, 'https://host' || g %% 1000 || '.example/page/' || g, 'host' || g %% 1000 || '.example',
                           3, 60000, 1048576, 'completed', 1, now(), now(), 200, 'text/html; charset=utf-8', 2048,
                           false, encode(sha256(g::text::bytea), 'hex'), repeat('A fairly long page title ', 10) || g,
                           'https://host' || g %% 1000 || '.example/page/' || g || '?from=redirect', 42
                    FROM generate_series(1, %d) g""".formatted(batch, JOBS));
        }

        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + apiPort + "/api/v1/batches/" + batch + "/results")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        long lines = 0;
        long bytes = 0;
        String last = null;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines++;
                bytes += line.length() + 1;
                last = line;
            }
        }
        assertThat(lines).isEqualTo(JOBS);
        assertThat(bytes).as("bytes exported, against the API's " + HEAP + " heap").isGreaterThan(100L << 20);
        assertThat(last).contains("\"title\":\"" + "A fairly long page title ".repeat(10) + JOBS + "\"");
        assertThat(api.isAlive()).as("API still up after the export").isTrue();
        api.destroy();
        assertThat(api.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");
    }
}
