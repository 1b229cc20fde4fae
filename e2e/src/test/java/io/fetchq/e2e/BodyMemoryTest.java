package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fetchq.embedded.EmbeddedDatabase;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory bounded by bytes, not by count: a worker jar with a 256 MiB heap fetches 40 bodies of
 * 16 MiB, streamed slowly from 40 loopback hosts (half with a {@code Content-Length}, half chunked),
 * and 300 small pages. Everything it may hold at once would be many times its heap; it must stay up
 * (same process, no {@code OutOfMemoryError}) and end every job right, the big ones waiting for body
 * memory in turn. Its peak resident size is printed for docs/benchmarks.md.
 */
class BodyMemoryTest {

    private static final int BIG = 40;
    private static final int BIG_BYTES = 16 * 1024 * 1024;
    private static final int SMALL = 300;
    /** A big body is sent in chunks of this size, a pause after each: the site's pace, ~2 s a body. */
    private static final int CHUNK = 128 * 1024;
    private static final long CHUNK_PAUSE_MS = 15;

    @TempDir
    Path work;

    private final Jars jars = new Jars();
    private final List<HttpServer> servers = new ArrayList<>();
    private EmbeddedDatabase database;

    @AfterEach
    void stopEverything() {
        jars.close();
        servers.forEach(s -> s.stop(0));
        if (database != null) {
            database.close();
        }
    }

    @Test
    void aSmallHeapFetchesBodiesManyTimesItsSizeWithoutRunningOut() throws Exception {
        database = EmbeddedDatabase.start(work.resolve("pg"), Net.freePort());
        String jdbcUrl = database.jdbcUrl();
        int apiPort = Net.freePort();
        jars.start("memory-api", Jars.API, List.of("--spring.datasource.url=" + jdbcUrl, "--server.port=" + apiPort,
                "--fetchq.worker.enabled=false", "--fetchq.security.allow-anonymous=true",
                "--fetchq.fetch.allow-private-networks=true"));
        Process worker = jars.start("memory-worker", Jars.WORKER, List.of("--spring.datasource.url=" + jdbcUrl,
                "--server.port=0", "--fetchq.worker.id=memory-worker", "--fetchq.fetch.allow-private-networks=true"));
        String api = "http://127.0.0.1:" + apiPort;
        awaitUntil("API up", Duration.ofSeconds(90), () -> Net.httpStatus(api + "/actuator/health") == 200);

        StringBuilder jobs = new StringBuilder("{\"defaults\": {\"timeout_ms\": 300000, \"max_body_bytes\": "
                + (BIG_BYTES + 1024) + "}, \"jobs\": [");
        for (int i = 0; i < BIG; i++) {
            // 127.0.0.2 to 127.0.0.41: one host each, so that host limits hold nothing back.
            HttpServer big = server("127.0.0." + (2 + i));
            boolean announced = i % 2 == 0;
            big.createContext("/big", exchange -> {
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                exchange.sendResponseHeaders(200, announced ? BIG_BYTES : 0);
                byte[] chunk = new byte[CHUNK];
                try (OutputStream out = exchange.getResponseBody()) {
                    for (int sent = 0; sent < BIG_BYTES; sent += CHUNK) {
                        chunk[0] = (byte) sent;
                        out.write(chunk);
                        out.flush();
                        Thread.sleep(CHUNK_PAUSE_MS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            jobs.append(i == 0 ? "" : ", ").append("{\"url\": \"http://127.0.0.").append(2 + i).append(':')
                    .append(big.getAddress().getPort()).append("/big\"}");
        }
        HttpServer small = server("127.0.0.1");
        small.createContext("/small", exchange -> {
            byte[] page = ("<html><title>" + exchange.getRequestURI().getPath() + "</title></html>")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, page.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(page);
            }
        });
        for (int i = 0; i < SMALL; i++) {
            jobs.append(", {\"url\": \"http://127.0.0.1:").append(small.getAddress().getPort()).append("/small/")
                    .append(i).append("\", \"max_body_bytes\": 65536}");
        }
        jobs.append("]}");
        HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(api + "/api/v1/batches")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(jobs.toString())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);

        awaitUntil("every job final", Duration.ofMinutes(5),
                () -> count(jdbcUrl, "SELECT count(*) FROM fetchq.job_results WHERE state IN ('queued', 'running')") == 0);
        long peakRss = peakResidentKiB(worker);
        System.out.println("body memory test: worker peak RSS " + peakRss / 1024 + " MiB");

        assertThat(worker.isAlive()).as("the worker process is the one started").isTrue();
        String log = Files.readString(Jars.ROOT.resolve("e2e/target/e2e-logs/memory-worker.log"));
        assertThat(log).doesNotContain("OutOfMemoryError");
        assertThat(count(jdbcUrl, "SELECT count(*) FROM fetchq.job_results WHERE state = 'completed' AND status_code = 200"
                + " AND body_bytes = " + BIG_BYTES + " AND NOT body_truncated")).as("big bodies").isEqualTo(BIG);
        assertThat(count(jdbcUrl, "SELECT count(*) FROM fetchq.job_results WHERE state = 'completed'"
                + " AND status_code = 200 AND url LIKE '%/small/%' AND body_bytes > 0 AND NOT body_truncated"))
                .as("small pages").isEqualTo(SMALL);
        assertThat(count(jdbcUrl, "SELECT count(*) FROM fetchq.attempts")).as("one attempt each").isEqualTo(BIG + SMALL);
        assertThat(count(jdbcUrl, "SELECT count(*) FROM fetchq.job_bodies WHERE length(body) = " + BIG_BYTES))
                .as("big bodies stored whole").isEqualTo(BIG);
    }

    private HttpServer server(String address) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), 0), 100);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        servers.add(server);
        return server;
    }

    /** The process's peak resident set size (VmHWM), in KiB. */
    private static long peakResidentKiB(Process process) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status")).stream()
                .filter(l -> l.startsWith("VmHWM:"))
                .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
                .findFirst().orElse(-1L);
    }

    private static long count(String jdbcUrl, String sql) {
        return Net.count(jdbcUrl, sql);
    }

    private static void awaitUntil(String what, Duration timeout, BooleanSupplier condition) {
        Awaitility.await(what).atMost(timeout).pollInterval(Duration.ofMillis(200)).until(condition::getAsBoolean);
    }
}
