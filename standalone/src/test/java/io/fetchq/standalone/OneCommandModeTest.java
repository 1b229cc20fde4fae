package io.fetchq.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.THROWABLE;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The one-command mode: no datasource configured, so fetchq runs its own PostgreSQL 17. */
class OneCommandModeTest {

    @TempDir
    Path data;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void startsItsOwnPostgresAndWorkerAndKeepsJobsAcrossRestarts() throws Exception {
        String[] args = {
            "--fetchq.embedded.data-directory=" + data, "--fetchq.embedded.port=0", "--server.port=0",
            "--spring.datasource.url=",  // explicitly empty: nothing configured
            "--fetchq.fetch.allow-private-networks=true"  // the site below is on loopback
        };
        HttpServer site = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        site.createContext("/", exchange -> {
            byte[] page = "<html><head><title>Local page</title></head></html>".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(exchange.getRequestURI().getPath().equals("/gone") ? 404 : 200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        site.start();
        String siteUrl = "http://127.0.0.1:" + site.getAddress().getPort();
        long jobId;
        try (ConfigurableApplicationContext api = FetchqStandalone.run(args)) {
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

            // The in-process worker fetches a batch; waiting on the batch returns when it is done.
            HttpResponse<String> batch = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/batches?extract=title"))
                    .header("Content-Type", "text/plain")
                    .POST(HttpRequest.BodyPublishers.ofString(siteUrl + "/a\n" + siteUrl + "/gone\n")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(batch.statusCode()).isEqualTo(201);
            String batchId = batch.body().replaceAll(".*\"id\":(\\d+).*", "$1");
            HttpResponse<String> done = http.send(HttpRequest.newBuilder(
                    URI.create(base + "/api/v1/batches/" + batchId + "?wait_ms=30000")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(done.body()).contains("\"done\":true").contains("\"completed\":2");
            assertThat(sql.sql("SELECT string_agg(status_code || ' ' || coalesce(title, '-'), ',' ORDER BY job_id)"
                    + " FROM fetchq.job_results WHERE batch_id = " + batchId).query(String.class).single())
                    .isEqualTo("200 Local page,404 Local page");
        } finally {
            site.stop(0);
        }
        try (ConfigurableApplicationContext api = FetchqStandalone.run(args)) {
            JdbcClient sql = api.getBean(JdbcClient.class);
            assertThat(sql.sql("SELECT url FROM fetchq.job_results WHERE job_id = :id").param("id", jobId)
                    .query(String.class).single()).isEqualTo("https://example.com/kept");

            // Open without a key, but only to this machine: a page elsewhere (through a name it
            // rebinds to 127.0.0.1, or posting across sites) is refused, and writes nothing.
            int port = Integer.parseInt(api.getEnvironment().getProperty("local.server.port"));
            assertThat(statusWithHost(port, "/api/v1/jobs", "attacker.example:" + port)).isEqualTo(403);
            assertThat(statusWithHost(port, "/api/v1/jobs", "localhost:" + port)).isEqualTo(200);
            long jobs = sql.sql("SELECT count(*) FROM fetchq.job").query(Long.class).single();
            String base = "http://127.0.0.1:" + port;
            for (String[] header : new String[][] {{"Origin", "http://attacker.example"}, {"Sec-Fetch-Site", "cross-site"}}) {
                HttpResponse<String> crossSite = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/batches"))
                        .header("Content-Type", "text/plain").header(header[0], header[1])
                        .POST(HttpRequest.BodyPublishers.ofString("https://example.com/csrf\n")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(crossSite.statusCode()).as(header[0]).isEqualTo(403);
            }
            HttpResponse<String> sameOrigin = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/batches"))
                    .header("Content-Type", "text/plain").header("Origin", base).header("Sec-Fetch-Site", "same-origin")
                    .POST(HttpRequest.BodyPublishers.ofString("https://example.com/dashboard\n")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(sameOrigin.statusCode()).isEqualTo(201);
            assertThat(sql.sql("SELECT count(*) FROM fetchq.job").query(Long.class).single()).isEqualTo(jobs + 1);
        }
    }

    @Test
    void itNeedsKeysOnceItListensBeyondLoopback(@TempDir Path data) {
        assertThatThrownBy(() -> FetchqStandalone.run("--spring.datasource.url=", "--fetchq.embedded.port=0",
                "--fetchq.embedded.data-directory=" + data, "--server.port=0", "--server.address=0.0.0.0",
                "--spring.main.banner-mode=off"))
                .extracting(NestedExceptionUtils::getMostSpecificCause).asInstanceOf(THROWABLE)
                .hasMessageContaining("No API key exists");
    }

    /** The status of a GET sent with this {@code Host} header (which HttpClient does not let one set). */
    private static int statusWithHost(int port, String path, String host) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String status = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1))
                    .readLine();
            return Integer.parseInt(status.split(" ")[1]);
        }
    }
}
