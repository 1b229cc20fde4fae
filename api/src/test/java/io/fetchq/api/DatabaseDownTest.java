package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** With the database unreachable, calls answer 503 problem+json quickly: not 500, not a hang. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "spring.flyway.enabled=false", "fetchq.security.allow-anonymous=true", "spring.datasource.hikari.connection-timeout=1000",
    "spring.datasource.hikari.initialization-fail-timeout=-1"})
class DatabaseDownTest {

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void unreachableDatabase(DynamicPropertyRegistry registry) throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        int deadPort = closed;
        registry.add("spring.datasource.url", () -> "jdbc:postgresql://127.0.0.1:" + deadPort + "/fetchq?connectTimeout=1");
    }

    @Test
    void callsAnswer503WhileTheDatabaseIsUnreachable() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (HttpRequest request : new HttpRequest[] {
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/jobs"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"https://example.com/\"}")).build(),
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/batches/1")).build()
        }) {
            long started = System.nanoTime();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(response.headers().firstValue("Retry-After")).isPresent();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        }
    }
}
