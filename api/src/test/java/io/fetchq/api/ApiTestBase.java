package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.TestDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The API on a random port against the test database (see {@link TestDatabase}), with a plain
 * HTTP client, serving without keys (the security tests have their own context). All tests share
 * one Spring context; each starts from empty tables.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "fetchq.security.allow-anonymous=true", "fetchq.security.submit-rate-limit=0",
        "fetchq.security.read-rate-limit=0"})
public abstract class ApiTestBase {

    protected static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @LocalServerPort
    protected int port;

    @Autowired
    protected JdbcClient sql;

    @Autowired
    private LongPoll longPoll;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", TestDatabase::sharedUrl);
        // Every stats call reads afresh, so that tests see their own changes.
        registry.add("fetchq.api.stats-max-age", () -> "0s");
        // Short, so that a read stuck behind a lock answers within a test's patience.
        registry.add("fetchq.db.read-timeout", () -> "2s");
        // Longer than any wait_ms of the tests: a held request answers early only when a "jobs
        // finished" notification wakes it.
        registry.add("fetchq.api.wait-poll-interval", () -> "60s");
    }

    @BeforeEach
    void emptyTables() {
        sql.sql("TRUNCATE fetchq.queue, fetchq.body, fetchq.body_content, fetchq.body_release, fetchq.url_state, fetchq.attempt, fetchq.job, fetchq.batch, fetchq.worker, fetchq.api_key, fetchq.host, fetchq.host_share, fetchq.schedule, fetchq.schedule_job")
                .update();
    }

    /** An HTTP exchange's outcome. */
    public record Response(int status, String contentType, String location, String body) {

        public JsonNode json() {
            return JSON.readTree(body);
        }

        /** Asserts a problem+json answer with this status and returns it. */
        public JsonNode problem(int expectedStatus) {
            assertThat(status).as("status of %s", body).isEqualTo(expectedStatus);
            assertThat(contentType).isEqualTo("application/problem+json");
            JsonNode problem = json();
            assertThat(problem.get("status").asInt()).isEqualTo(expectedStatus);
            assertThat(problem.get("title").asString()).isNotBlank();
            assertThat(problem.get("detail").asString()).isNotBlank();
            return problem;
        }
    }

    protected Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    /** A GET with request headers, given as name, value, name, value... */
    protected Response get(String path, String... headers) {
        return send(HttpRequest.newBuilder(uri(path)).headers(headers).GET());
    }

    protected Response post(String path) {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()));
    }

    protected Response postJson(String path, String json) {
        return post(path, "application/json", json);
    }

    protected Response post(String path, String contentType, String body) {
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
    }

    protected Response putJson(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)));
    }

    protected Response patchJson(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)));
    }

    protected Response delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private static Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(),
                    response.headers().firstValue("Content-Type").orElse(null),
                    response.headers().firstValue("Location").orElse(null),
                    response.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The status of a GET naming this Host header, written by hand (the JDK client sends only its own). */
    static int statusWithHost(int port, String path, String host) throws IOException {
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    StandardCharsets.ISO_8859_1)).readLine();
            return Integer.parseInt(status.split(" ")[1]);
        }
    }

    /** Rows in the tables intake writes: a refused request must leave these unchanged. */
    /**
     * Waits until the API holds a {@code wait_ms} request, with "jobs finished" notifications
     * arriving: what the test does next happens during the wait, and only a notification ends it early.
     */
    protected void awaitHeldLongPoll() {
        org.awaitility.Awaitility.await("a request held by wait_ms").atMost(java.time.Duration.ofSeconds(10))
                .pollInterval(java.time.Duration.ofMillis(10))
                .until(() -> longPoll.waiting() > 0 && longPoll.notificationsArrive());
    }

    protected long writtenRows() {
        return sql.sql("""
                SELECT (SELECT count(*) FROM fetchq.job) + (SELECT count(*) FROM fetchq.queue)
                     + (SELECT count(*) FROM fetchq.batch)""").query(Long.class).single();
    }

    /** Pretends a worker has claimed the job: its queue row is running under a lease. */
    protected void markRunning(long jobId) {
        sql.sql("""
                UPDATE fetchq.queue SET state = 'running', attempt = attempt + 1, lease_token = gen_random_uuid(),
                       lease_expires_at = now() + interval '30 seconds', worker_id = 'test-worker',
                       first_started_at = COALESCE(first_started_at, now())
                WHERE job_id = :id""").param("id", jobId).update();
    }

    /**
     * Pretends a worker has finished the job in {@code state} with an HTTP status or error kind, and
     * sends the "jobs finished" notification it would.
     */
    protected void finish(long jobId, String state, Integer status, String errorKind) {
        sql.sql("""
                WITH q AS (DELETE FROM fetchq.queue WHERE job_id = :id RETURNING job_id, attempt)
                UPDATE fetchq.job j
                SET state = :state, attempts = GREATEST(q.attempt, 1), status_code = :status,
                    error_kind = :kind, started_at = now(), finished_at = now(), total_ms = 12
                FROM q WHERE j.id = q.job_id""")
                .param("id", jobId).param("state", state).param("status", status).param("kind", errorKind)
                .update();
        // As fetchq's own statements do: the job counts as finished.
        sql.sql("""
                SELECT fetchq.count_job_changes(ARRAY[ROW(batch_id, 'queued', NULL, -1), ROW(batch_id, state, finished_at, 1)]
                                                ::fetchq.job_count_delta[])
                FROM fetchq.job WHERE id = :id""").param("id", jobId).query().listOfRows();
        // As a worker does once its results commit: requests waiting for the job look again.
        sql.sql("""
                SELECT pg_notify('fetchq_done', CASE WHEN batch_id IS NULL THEN 'j' || id ELSE 'b' || batch_id END)
                FROM fetchq.job WHERE id = :id""").param("id", jobId).query().listOfRows();
    }
}
