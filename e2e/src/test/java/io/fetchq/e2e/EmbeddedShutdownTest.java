package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fetchq.embedded.EmbeddedDatabase;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one-command mode stopped with SIGTERM while its in-process worker is fetching: the worker
 * finishes the fetch and writes the result before the embedded PostgreSQL stops, so the job is
 * completed, not left to be rescued.
 */
class EmbeddedShutdownTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path work;

    private HttpServer site;
    private Process api;

    @AfterEach
    void stop() throws java.io.IOException {
        if (api != null) {
            api.destroyForcibly();
        }
        if (site != null) {
            site.stop(0);
        }
        // A failed run may leave the API's PostgreSQL running: it is a process of its own.
        Path pid = work.resolve("pg").resolve("postmaster.pid");
        if (Files.exists(pid)) {
            ProcessHandle.of(Long.parseLong(Files.readAllLines(pid).getFirst().strip()))
                    .filter(p -> p.info().command().orElse("").contains("postgres"))
                    .ifPresent(ProcessHandle::destroy);
        }
    }

    @Test
    void sigtermLetsTheInProcessWorkerFinishBeforeTheDatabaseStops() throws Exception {
        CountDownLatch requested = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        site = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        site.createContext("/", exchange -> {
            requested.countDown();
            try {
                answer.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] page = "<html><head><title>Finished</title></head></html>".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        site.start();

        Path data = work.resolve("pg");
        int apiPort = Net.freePort();
        Path log = Files.createDirectories(ROOT.resolve("e2e/target/e2e-logs")).resolve("embedded-shutdown.log");
        api = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m",
                "-XX:TieredStopAtLevel=1", "-jar", ROOT.resolve("standalone/target/fetchq.jar").toString(),
                "--server.port=" + apiPort, "--fetchq.embedded.data-directory=" + data, "--fetchq.embedded.port=0",
                "--fetchq.worker.poll-interval=100ms", "--fetchq.fetch.allow-private-networks=true"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String base = "http://127.0.0.1:" + apiPort;
        Awaitility.await("API up").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.httpStatus(base + "/actuator/health") == 200);

        HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/api/v1/jobs"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"http://127.0.0.1:" + site.getAddress().getPort()
                        + "/slow\", \"extract\": [\"title\"], \"max_attempts\": 1}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(requested.await(30, TimeUnit.SECONDS)).as("the worker is fetching").isTrue();

        api.destroy();  // SIGTERM, mid-fetch
        Awaitility.await("the worker begins its graceful stop").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50)).until(() -> Files.readString(log).contains("jobs in flight, waiting"));
        try {
            // Give a database that would stop early (a shutdown hook racing the graceful stop) the
            // chance to do so before the fetch finishes; it must not.
            Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                    .until(() -> Files.readString(log).contains("server stopped"));
        } catch (ConditionTimeoutException expected) {
            // still up: as it should be
        }
        answer.countDown();
        assertThat(api.waitFor(90, TimeUnit.SECONDS)).as("the API exits").isTrue();

        String output = Files.readString(log);
        assertThat(output).doesNotContain("could not write");
        assertThat(output.indexOf("] stopped")).as("the worker stops before the database").isPositive()
                .isLessThan(output.indexOf("Stopping embedded PostgreSQL"));
        // The result was written: the job is completed, with its title, in the data directory.
        try (EmbeddedDatabase database = EmbeddedDatabase.start(data, 0);
                Connection c = DriverManager.getConnection(database.jdbcUrl());
                ResultSet rs = c.createStatement().executeQuery(
                        "SELECT state || ' ' || title || ' ' || attempts FROM fetchq.job_results")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("completed Finished 1");
        }
    }
}
