package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.TestDatabase;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Exports read by clients that stop reading do not starve the API's connection pool: with more
 * stalled exports than pooled connections, the API still answers calls that need the database,
 * and every export completes once its reader reads on.
 */
class ExportPoolTest {

    private static final int POOL = 3;
    private static final int STALLED = 6;
    private static final int JOBS = 40_000;

    @Test
    void stalledExportReadersHoldNoPooledConnection() throws Exception {
        try (ConfigurableApplicationContext api = FetchqApiApplication.run("--server.port=0",
                "--spring.datasource.url=" + TestDatabase.newDatabase(), "--fetchq.worker.enabled=false",
                "--fetchq.security.allow-anonymous=true", "--fetchq.security.submit-rate-limit=0",
                "--spring.main.banner-mode=off", "--logging.level.root=WARN",
                "--spring.datasource.hikari.maximum-pool-size=" + POOL,
                "--spring.datasource.hikari.connection-timeout=3000")) {
            int port = ((WebServerApplicationContext) api).getWebServer().getPort();
            HttpClient http = HttpClient.newHttpClient();
            StringJoiner urls = new StringJoiner("\n");
            for (int i = 0; i < JOBS; i++) {
                urls.add("https://export.example/a-rather-long-path-so-that-each-line-weighs-more/" + i);
            }
            HttpResponse<String> batch = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/v1/batches")).header("Content-Type", "text/plain")
                    .POST(HttpRequest.BodyPublishers.ofString(urls.toString())).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(batch.statusCode()).as(batch.body()).isEqualTo(201);
            String id = batch.body().replaceAll("^\\{\"id\":(\\d+),.*", "$1");

            // Readers that ask for the export and read a little, then nothing: the server fills the
            // socket buffers and its writes block.
            List<Socket> stalled = new ArrayList<>();
            for (int i = 0; i < STALLED; i++) {
                Socket s = new Socket();
                s.setReceiveBufferSize(4096);
                s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                OutputStream out = s.getOutputStream();
                out.write(("GET /api/v1/batches/" + id + "/results HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                stalled.add(s);
            }
            try {
                // Calls that need the database still get a connection, over and over.
                for (int i = 0; i < 5; i++) {
                    HttpResponse<String> read = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/api/v1/batches/" + id)).timeout(Duration.ofSeconds(20)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
                }
                // And a stalled export, read on, is complete.
                Socket first = stalled.getFirst();
                first.setSoTimeout(60_000);
                String response = new String(first.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(response).startsWith("HTTP/1.1 200");
                assertThat(dechunk(response.substring(response.indexOf("\r\n\r\n") + 4)).lines()).hasSize(JOBS);
            } finally {
                for (Socket s : stalled) {
                    s.close();
                }
            }
        }
    }

    /** The body of a chunked HTTP/1.1 response. */
    private static String dechunk(String chunked) {
        StringBuilder body = new StringBuilder();
        int at = 0;
        while (true) {
            int lineEnd = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, lineEnd).strip(), 16);
            if (size == 0) {
                return body.toString();
            }
            // Sizes count bytes; the export is ASCII here.
            body.append(chunked, lineEnd + 2, lineEnd + 2 + size);
            at = lineEnd + 2 + size + 2;
        }
    }
}
