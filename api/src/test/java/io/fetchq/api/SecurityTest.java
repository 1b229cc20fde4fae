package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fetchq.api.ApiTestBase.Response;
import io.fetchq.db.testing.TestDatabase;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The API as deployed: keys required (an admin key from configuration), an in-process worker, a
 * loopback site, debug logging. Anonymous and unknown callers get 401, another tenant's jobs 404,
 * a missing scope 403, a revoked key 401, a caller over its submission or read rate 429; secret headers
 * reach the site but no answer, log line or listing.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "fetchq.security.admin-key=" + SecurityTest.ADMIN_KEY,
        "fetchq.security.submit-rate-limit=10", "fetchq.security.submit-rate-period=1h",
        "fetchq.security.read-rate-limit=200", "fetchq.security.read-rate-period=1h",
        "fetchq.security.key-cache-ttl=1s",
        "fetchq.worker.enabled=true", "fetchq.worker.poll-interval=100ms",
        "fetchq.fetch.allowed-networks=127.0.0.0/8",
        "logging.level.io.fetchq=DEBUG", "logging.level.okhttp3=DEBUG"})
@ExtendWith(OutputCaptureExtension.class)
@DirtiesContext
class SecurityTest {

    static final String ADMIN_KEY = "test-admin-key-0123456789-abcdefghij";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    /** Every request the loopback site received: its headers (names as the JDK server spells them). */
    private static final Queue<Map<String, List<String>>> RECEIVED = new ConcurrentLinkedQueue<>();
    private static HttpServer site;

    @LocalServerPort
    int port;

    @Autowired
    JdbcClient sql;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        // A database of its own: this context's worker must not take other tests' jobs.
        String url = TestDatabase.newDatabase();
        registry.add("spring.datasource.url", () -> url);
    }

    @BeforeAll
    static void startSite() throws IOException {
        site = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        site.createContext("/", exchange -> {
            RECEIVED.add(Map.copyOf(exchange.getRequestHeaders()));
            byte[] page = "<html><head><title>Private page</title></head></html>".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        site.start();
    }

    @AfterAll
    static void stopSite() {
        site.stop(0);
    }

    // ---- authentication ---------------------------------------------------------------------------

    @Test
    void callersWithoutAValidKeyAreRefusedWith401AndNothingIsWritten() {
        long jobs = count("fetchq.job");
        for (String key : new String[] {null, "fq_not-a-key-of-this-api-000000000000000000", ""}) {
            Response anonymous = call("POST", "/api/v1/jobs", key, "application/json", "{\"url\": \"https://example.com/\"}");
            assertThat(anonymous.problem(401).get("detail").asString()).containsAnyOf("API key", "Bearer");
            assertThat(call("GET", "/api/v1/jobs", key, null, null).status()).isEqualTo(401);
            assertThat(call("GET", "/api/v1/batches/1", key, null, null).status()).isEqualTo(401);
            assertThat(call("GET", "/api/v1/stats", key, null, null).status()).isEqualTo(401);
            assertThat(call("GET", "/actuator/prometheus", key, null, null).status()).isEqualTo(401);
            assertThat(call("GET", "/no/such/path", key, null, null).status()).isEqualTo(401);
        }
        // Not a bearer key at all.
        HttpResponse<String> basic = send(HttpRequest.newBuilder(uri("/api/v1/jobs"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString("a:b".getBytes())));
        assertThat(basic.statusCode()).isEqualTo(401);
        assertThat(basic.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> v.startsWith("Bearer"));
        assertThat(count("fetchq.job")).isEqualTo(jobs);

        // Open to all: health (for orchestrators), the dashboard page (it asks for a key), the docs.
        assertThat(call("GET", "/actuator/health/readiness", null, null, null).status()).isEqualTo(200);
        assertThat(call("GET", "/", null, null, null).body()).contains("key-form");
        assertThat(call("GET", "/v3/api-docs", null, null, null).status()).isEqualTo(200);
        // A valid key is refused nowhere it belongs, even on an open path.
        assertThat(call("GET", "/actuator/health", ADMIN_KEY, null, null).status()).isEqualTo(200);
        // A path the filter does not know is closed (not open by omission), and past it, unknown.
        assertThat(call("GET", "/no/such/path", ADMIN_KEY, null, null).status()).isEqualTo(404);
    }

    @Test
    void keysAreShownOnceAndStoredOnlyAsTheirHash() throws Exception {
        Response created = call("POST", "/api/v1/keys", ADMIN_KEY, "application/json",
                "{\"tenant\": \"hash-check\", \"scopes\": [\"read\"], \"name\": \"for the test\"}");
        assertThat(created.status()).isEqualTo(201);
        String key = created.json().get("key").asString();
        assertThat(key).startsWith("fq_").hasSize(46);
        long id = created.json().get("id").asLong();
        assertThat(created.location()).isEqualTo("/api/v1/keys/" + id);

        byte[] stored = sql.sql("SELECT key_hash FROM fetchq.api_key WHERE id = :id").param("id", id)
                .query(byte[].class).single();
        assertThat(stored).isEqualTo(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        String everything = sql.sql("SELECT string_agg(k::text, ' ') FROM fetchq.api_key k").query(String.class).single();
        assertThat(everything).doesNotContain(key.substring(11));

        Response listed = call("GET", "/api/v1/keys", ADMIN_KEY, null, null);
        assertThat(listed.status()).isEqualTo(200);
        assertThat(listed.body()).contains("\"prefix\":\"" + key.substring(0, 11) + "\"").doesNotContain(key.substring(11));
        assertThat(call("GET", "/api/v1/jobs", key, null, null).status()).isEqualTo(200);

        // Bad requests name each bad field and create nothing.
        long keys = count("fetchq.api_key");
        JsonNode bad = call("POST", "/api/v1/keys", ADMIN_KEY, "application/json",
                "{\"tenant\": \"Not Valid\", \"scopes\": [\"read\", \"root\"], \"colour\": 1}").problem(400);
        assertThat(bad.get("errors").findValuesAsString("pointer")).containsExactlyInAnyOrder("/colour", "/tenant", "/scopes/1");
        call("POST", "/api/v1/keys", ADMIN_KEY, "application/json", "{\"tenant\": \"t\", \"scopes\": []}").problem(400);
        assertThat(count("fetchq.api_key")).isEqualTo(keys);
    }

    // ---- tenants ----------------------------------------------------------------------------------

    @Test
    void aWebhookEndpointIsItsTenantsOwn() {
        String acme = createKey("acme-hooks", "submit", "read");
        String globex = createKey("globex-hooks", "submit", "read");
        String readOnly = createKey("acme-hooks", "read");
        String submitOnly = createKey("acme-hooks", "submit");
        Response created = call("POST", "/api/v1/webhooks", acme, "application/json",
                "{\"url\": \"https://hooks.example/acme\", \"events\": [\"batch.completed\"]}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long id = created.json().get("id").asLong();
        assertThat(created.json().get("tenant").asString()).isEqualTo("acme-hooks");

        assertThat(call("GET", "/api/v1/webhooks/" + id, globex, null, null).status()).isEqualTo(404);
        assertThat(call("GET", "/api/v1/webhooks/" + id + "/deliveries", globex, null, null).status()).isEqualTo(404);
        assertThat(call("DELETE", "/api/v1/webhooks/" + id, globex, null, null).status()).isEqualTo(404);
        assertThat(call("GET", "/api/v1/webhooks", globex, null, null).json()).isEmpty();
        assertThat(call("GET", "/api/v1/webhooks", acme, null, null).json()).hasSize(1);
        assertThat(call("POST", "/api/v1/webhooks", readOnly, "application/json",
                "{\"url\": \"https://hooks.example/r\", \"events\": [\"job.failed\"]}").status()).isEqualTo(403);
        assertThat(call("POST", "/api/v1/webhooks", submitOnly, "application/json",
                "{\"url\": \"https://hooks.example/s\", \"events\": [\"job.failed\"]}").status())
                .as("an endpoint would read the tenant's jobs").isEqualTo(403);
        assertThat(call("GET", "/api/v1/webhooks", ADMIN_KEY, null, null).json().size()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aCrawlIsItsTenantsOwn() {
        String acme = createKey("acme-crawls", "submit", "read");
        String globex = createKey("globex-crawls", "submit", "read");
        String readOnly = createKey("acme-crawls", "read");
        Response created = call("POST", "/api/v1/crawls", acme, "application/json",
                "{\"seeds\": [\"https://docs.example/\"], \"max_pages\": 5}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long id = created.json().get("id").asLong();
        assertThat(sql.sql("SELECT DISTINCT tenant FROM fetchq.job WHERE crawl_id = :id").param("id", id)
                .query(String.class).list()).containsExactly("acme-crawls");

        assertThat(call("GET", "/api/v1/crawls/" + id, globex, null, null).status()).isEqualTo(404);
        assertThat(call("POST", "/api/v1/crawls/" + id + "/cancel", globex, null, null).status()).isEqualTo(404);
        assertThat(call("GET", "/api/v1/crawls", globex, null, null).json()).isEmpty();
        assertThat(call("GET", "/api/v1/crawls", acme, null, null).json()).hasSize(1);
        assertThat(call("POST", "/api/v1/crawls", readOnly, "application/json",
                "{\"seeds\": [\"https://docs.example/\"]}").status()).isEqualTo(403);
        assertThat(call("GET", "/api/v1/crawls/" + id, ADMIN_KEY, null, null).status()).isEqualTo(200);
        assertThat(call("POST", "/api/v1/crawls/" + id + "/cancel", acme, null, null).json().get("state").asString())
                .isEqualTo("cancelled");
    }

    @Test
    void aKeySeesOnlyItsOwnTenantsJobsAndBatchesAndAnAdminSeesAll() {
        String alice = createKey("alice", "submit", "read");
        String bob = createKey("bob", "submit", "read");
        long job = submitJob(alice, "{\"url\": \"" + siteUrl("/alice") + "\", \"idempotency_key\": \"shared\"}");
        long batch = call("POST", "/api/v1/batches", alice, "text/plain", siteUrl("/a1") + "\n" + siteUrl("/a2"))
                .json().get("id").asLong();
        await(() -> call("GET", "/api/v1/batches/" + batch, alice, null, null).json().get("done").asBoolean());
        await(() -> call("GET", "/api/v1/jobs/" + job, alice, null, null).json().get("state").asString().equals("completed"));

        // Everything of alice's is, to bob, exactly what does not exist: 404, never 403.
        String[][] calls = {
            {"GET", "/api/v1/jobs/" + job}, {"GET", "/api/v1/jobs/" + job + "?wait_ms=5000"},
            {"GET", "/api/v1/jobs/" + job + "/attempts"}, {"GET", "/api/v1/jobs/" + job + "/body"},
            {"POST", "/api/v1/jobs/" + job + "/cancel"}, {"POST", "/api/v1/jobs/" + job + "/retry"},
            {"GET", "/api/v1/batches/" + batch}, {"GET", "/api/v1/batches/" + batch + "?wait_ms=5000"},
            {"GET", "/api/v1/batches/" + batch + "/results"}, {"POST", "/api/v1/batches/" + batch + "/cancel"}};
        for (String[] c : calls) {
            Response theirs = call(c[0], c[1], bob, null, null);
            Response none = call(c[0], c[1].replace("/" + job, "/999999").replace("/" + batch, "/999999"), bob, null, null);
            assertThat(theirs.status()).as("%s %s", c[0], c[1]).isEqualTo(404);
            assertThat(theirs.problem(404).get("title")).isEqualTo(none.problem(404).get("title"));
        }
        assertThat(call("GET", "/api/v1/jobs", bob, null, null).json().get("jobs")).isEmpty();
        assertThat(call("GET", "/api/v1/jobs?batch_id=" + batch, bob, null, null).json().get("jobs")).isEmpty();
        assertThat(call("GET", "/api/v1/batches", bob, null, null).json()).isEmpty();
        // Idempotency keys are each tenant's own: bob's "shared" neither conflicts nor answers alice's job.
        long bobs = submitJob(bob, "{\"url\": \"" + siteUrl("/bob") + "\", \"idempotency_key\": \"shared\"}");
        assertThat(bobs).isNotEqualTo(job);
        assertThat(call("GET", "/api/v1/jobs", bob, null, null).json().get("jobs").findValuesAsString("url"))
                .containsExactly(siteUrl("/bob"));

        // Alice sees hers; the cancel and retry that bob was refused changed nothing.
        Response hers = call("GET", "/api/v1/jobs/" + job, alice, null, null);
        assertThat(hers.json().get("state").asString()).isEqualTo("completed");
        assertThat(hers.json().get("tenant").asString()).isEqualTo("alice");
        assertThat(call("GET", "/api/v1/batches/" + batch + "/results", alice, null, null).body().lines()).hasSize(2);
        Response body = call("GET", "/api/v1/jobs/" + job + "/body", alice, null, null);
        assertThat(body.body()).contains("Private page");

        // Hosts: each tenant's own jobs' (a job bob cannot fetch still names its host).
        submitJob(alice, "{\"url\": \"https://alice-only.example/\", \"delay_ms\": 86400000}");
        assertThat(call("GET", "/api/v1/hosts", alice, null, null).json().findValuesAsString("host"))
                .contains("alice-only.example");
        Response bobsHosts = call("GET", "/api/v1/hosts", bob, null, null);
        assertThat(bobsHosts.status()).isEqualTo(200);
        assertThat(bobsHosts.json().findValuesAsString("host")).contains("127.0.0.1").doesNotContain("alice-only.example");
        assertThat(call("GET", "/api/v1/hosts", ADMIN_KEY, null, null).json().findValuesAsString("host"))
                .contains("alice-only.example");

        // An admin sees every tenant's.
        assertThat(call("GET", "/api/v1/jobs/" + job, ADMIN_KEY, null, null).status()).isEqualTo(200);
        assertThat(call("GET", "/api/v1/jobs", ADMIN_KEY, null, null).json().get("jobs").findValuesAsString("tenant"))
                .contains("alice", "bob");
        assertThat(call("GET", "/api/v1/batches", ADMIN_KEY, null, null).json().findValuesAsString("tenant")).contains("alice");
    }

    @Test
    void aStoredBodyIsServedSoThatABrowserNeitherRunsNorSniffsIt() {
        String key = createKey("bodies", "submit", "read");
        long job = submitJob(key, "{\"url\": \"" + siteUrl("/page") + "\"}");
        await(() -> call("GET", "/api/v1/jobs/" + job, key, null, null).json().get("state").asString().equals("completed"));
        HttpResponse<String> body = send(HttpRequest.newBuilder(uri("/api/v1/jobs/" + job + "/body"))
                .header("Authorization", "Bearer " + key));
        assertThat(body.statusCode()).isEqualTo(200);
        assertThat(body.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v -> assertThat(v).startsWith("sandbox"));
        assertThat(body.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    }

    // ---- scopes -----------------------------------------------------------------------------------

    @Test
    void aKeyWithoutTheScopeACallNeedsGets403AndNothingIsWritten() {
        String reader = createKey("scopes", "read");
        String submitter = createKey("scopes", "submit");
        long jobs = count("fetchq.job");
        Response refused = call("POST", "/api/v1/jobs", reader, "application/json", "{\"url\": \"https://example.com/\"}");
        assertThat(refused.problem(403).get("detail").asString()).contains("submit");
        assertThat(call("POST", "/api/v1/batches", reader, "text/plain", "https://example.com/").status()).isEqualTo(403);
        assertThat(count("fetchq.job")).isEqualTo(jobs);

        long job = submitJob(submitter, "{\"url\": \"https://example.com/s\"}");
        assertThat(call("GET", "/api/v1/jobs/" + job, submitter, null, null).problem(403).get("detail").asString())
                .contains("read");
        assertThat(call("GET", "/api/v1/jobs/" + job, reader, null, null).status()).isEqualTo(200);
        assertThat(call("POST", "/api/v1/jobs/" + job + "/cancel", reader, null, null).status()).isEqualTo(403);
        // Parsing a URL needs either.
        assertThat(call("GET", "/api/v1/urls/parse?url=https://example.com/", submitter, null, null).status()).isEqualTo(200);
        assertThat(call("GET", "/api/v1/hosts", reader, null, null).status()).isEqualTo(200);
        assertThat(call("GET", "/api/v1/hosts", submitter, null, null).status()).isEqualTo(403);
        // Keys: admin only.
        for (String key : new String[] {reader, submitter}) {
            assertThat(call("GET", "/api/v1/keys", key, null, null).status()).isEqualTo(403);
            assertThat(call("POST", "/api/v1/keys", key, "application/json",
                    "{\"tenant\": \"scopes\", \"scopes\": [\"admin\"]}").status()).isEqualTo(403);
        }
        // Metrics: the admin scope (they name hosts, whoever's jobs they are).
        assertThat(call("GET", "/actuator/prometheus", ADMIN_KEY, null, null).status()).isEqualTo(200);
        assertThat(call("GET", "/actuator/prometheus", reader, null, null).status()).isEqualTo(403);
        assertThat(call("GET", "/actuator/prometheus", submitter, null, null).status()).isEqualTo(403);
        assertThat(call("GET", "/actuator", submitter, null, null).status()).isEqualTo(403);
        assertThat(call("GET", "/actuator", ADMIN_KEY, null, null).status()).isEqualTo(200);
        HttpResponse<String> challenge = send(HttpRequest.newBuilder(uri("/api/v1/keys"))
                .header("Authorization", "Bearer " + reader));
        assertThat(challenge.headers().firstValue("WWW-Authenticate"))
                .hasValueSatisfying(v -> assertThat(v).contains("insufficient_scope").contains("admin"));
    }

    // ---- revocation -------------------------------------------------------------------------------

    @Test
    void aRevokedKeyGets401AtOnceHereAndWithinTheCacheTimeWhenRevokedElsewhere() {
        Response created = call("POST", "/api/v1/keys", ADMIN_KEY, "application/json",
                "{\"tenant\": \"revoked\", \"scopes\": [\"read\"]}");
        String key = created.json().get("key").asString();
        long id = created.json().get("id").asLong();
        assertThat(call("GET", "/api/v1/jobs", key, null, null).status()).isEqualTo(200);
        Response revoked = call("POST", "/api/v1/keys/" + id + "/revoke", ADMIN_KEY, null, null);
        assertThat(revoked.json().get("revoked_at").isNull()).isFalse();
        Response after = call("GET", "/api/v1/jobs", key, null, null);
        assertThat(after.problem(401).get("detail").asString()).contains("revoked");
        assertThat(call("POST", "/api/v1/keys/999999/revoke", ADMIN_KEY, null, null).status()).isEqualTo(404);

        // Revoked in SQL (or through another API instance): this instance's remembered lookup
        // expires after fetchq.security.key-cache-ttl.
        String other = createKey("revoked", "read");
        assertThat(call("GET", "/api/v1/jobs", other, null, null).status()).isEqualTo(200);
        sql.sql("UPDATE fetchq.api_key SET revoked_at = now() WHERE tenant = 'revoked' AND revoked_at IS NULL").update();
        await(() -> call("GET", "/api/v1/jobs", other, null, null).status() == 401);
    }

    // ---- rate limits ------------------------------------------------------------------------------

    @Test
    void aKeyOverItsSubmissionRateGets429WithRetryAfterAndOtherKeysDoNot() {
        String busy = createKey("busy", "submit", "read");
        for (int i = 0; i < 10; i++) {
            assertThat(call("POST", "/api/v1/batches", busy, "text/plain", "https://example.com/" + i).status()).isEqualTo(201);
        }
        long jobs = count("fetchq.job");
        HttpResponse<String> limited = send(HttpRequest.newBuilder(uri("/api/v1/jobs"))
                .header("Authorization", "Bearer " + busy).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"https://example.com/over\"}")));
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 3600L);
        assertThat(count("fetchq.job")).isEqualTo(jobs);
        // Reads count against a limit of their own, and the limit is the key's own.
        assertThat(call("GET", "/api/v1/jobs", busy, null, null).status()).isEqualTo(200);
        String calm = createKey("busy", "submit");
        assertThat(call("POST", "/api/v1/jobs", calm, "application/json", "{\"url\": \"https://example.com/calm\"}").status())
                .isEqualTo(201);
    }

    @Test
    void aKeyOverItsReadRateGets429WithRetryAfterAndOtherKeysDoNot() {
        String reader = createKey("reader", "read");
        int answered = 0;
        int status;
        while ((status = call("GET", "/api/v1/stats", reader, null, null).status()) == 200) {
            answered++;
            assertThat(answered).as("reads answered before the limit").isLessThanOrEqualTo(200);
        }
        assertThat(answered).isEqualTo(200);
        assertThat(status).isEqualTo(429);
        HttpResponse<String> limited = send(HttpRequest.newBuilder(uri("/api/v1/jobs"))
                .header("Authorization", "Bearer " + reader).GET());
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(limited.body()).contains("fetchq.security.read-rate-limit");
        assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 3600L);
        // The limit is the key's own.
        assertThat(call("GET", "/api/v1/stats", createKey("reader", "read"), null, null).status()).isEqualTo(200);
    }

    // ---- secrets ----------------------------------------------------------------------------------

    @Test
    void secretHeadersAreUsedForTheFetchButNeverAnsweredListedOrLogged(CapturedOutput output) {
        String secret = "s3cr3t-" + UUID.randomUUID();
        String key = createKey("secrets", "submit", "read");
        String headers = "{\"Authorization\": \"Bearer " + secret + "\", \"Cookie\": \"sid=" + secret + "\", "
                + "\"X-Api-Key\": \"" + secret + "\", \"X-Session-Token\": \"" + secret + "\", \"Accept\": \"text/html\"}";
        List<Response> answers = new ArrayList<>();
        Response single = call("POST", "/api/v1/jobs", key, "application/json",
                "{\"url\": \"" + siteUrl("/one") + "\", \"headers\": " + headers + ", \"idempotency_key\": \"secret-1\"}");
        answers.add(single);
        long job = single.json().get("id").asLong();
        Response json = call("POST", "/api/v1/batches", key, "application/json",
                "{\"defaults\": {\"headers\": " + headers + "}, \"urls\": [\"" + siteUrl("/two") + "\"]}");
        answers.add(json);
        long batch = json.json().get("id").asLong();
        answers.add(call("GET", "/api/v1/batches/" + batch + "?wait_ms=30000", key, null, null));
        answers.add(call("GET", "/api/v1/batches/" + batch + "/results", key, null, null));
        answers.add(call("GET", "/api/v1/batches/" + batch + "/results?format=csv", key, null, null));
        // A query string ends up in proxies' and servers' logs: a secret header is refused there.
        Response text = call("POST", "/api/v1/batches?header=" + enc("Authorization: Bearer " + secret), key, "text/plain",
                siteUrl("/three"));
        assertThat(text.problem(400).get("errors").get(0).get("detail").asString())
                .startsWith("Authorization is a secret header");
        answers.add(text);
        Response done = call("GET", "/api/v1/jobs/" + job + "?wait_ms=30000", key, null, null);
        answers.add(done);
        assertThat(done.json().get("state").asString()).isEqualTo("completed");

        // Used for the fetch: the site received each secret header as submitted.
        List<String> authorizations = RECEIVED.stream().flatMap(h -> h.getOrDefault("Authorization", List.of()).stream()).toList();
        assertThat(authorizations).filteredOn(v -> v.equals("Bearer " + secret)).hasSize(2);
        assertThat(RECEIVED).anySatisfy(h -> {
            assertThat(h.get("Cookie")).containsExactly("sid=" + secret);
            assertThat(h.get("X-api-key")).containsExactly(secret);
            assertThat(h.get("X-session-token")).containsExactly(secret);
        });
        // Stored, for retries, in the table; shown nowhere.
        assertThat(sql.sql("SELECT headers::text FROM fetchq.job WHERE id = :id").param("id", job).query(String.class).single())
                .contains(secret);
        JsonNode shown = done.json().get("headers");
        assertThat(shown.get("Authorization").asString()).isEqualTo("[redacted]");
        assertThat(shown.get("Cookie").asString()).isEqualTo("[redacted]");
        assertThat(shown.get("X-Api-Key").asString()).isEqualTo("[redacted]");
        assertThat(shown.get("X-Session-Token").asString()).isEqualTo("[redacted]");
        assertThat(shown.get("Accept").asString()).isEqualTo("text/html");

        answers.add(call("GET", "/api/v1/jobs?limit=100", key, null, null));
        answers.add(call("GET", "/api/v1/jobs/" + job + "/attempts", key, null, null));
        answers.add(call("POST", "/api/v1/jobs/" + job + "/cancel", key, null, null));
        answers.add(call("POST", "/api/v1/jobs/" + job + "/retry", key, null, null));
        // Refusals that concern the secret's request: a reused idempotency key, a bad field beside
        // it, a header without a name, a header value that is not one, JSON that does not parse.
        answers.add(call("POST", "/api/v1/jobs", key, "application/json",
                "{\"url\": \"" + siteUrl("/other") + "\", \"headers\": " + headers + ", \"idempotency_key\": \"secret-1\"}"));
        answers.add(call("POST", "/api/v1/jobs", key, "application/json",
                "{\"url\": \"ftp://x\", \"headers\": " + headers + ", \"priority\": \"high\"}"));
        answers.add(call("POST", "/api/v1/batches?header=" + enc("Bearer " + secret), key, "text/plain", siteUrl("/x")));
        answers.add(call("POST", "/api/v1/jobs", key, "application/json",
                "{\"url\": \"" + siteUrl("/y") + "\", \"headers\": {\"Authorization\": \"" + secret + "\\n\"}}"));
        answers.add(call("POST", "/api/v1/jobs", key, "application/json",
                "{\"url\": \"" + siteUrl("/z") + "\", \"headers\": {\"Authorization\": " + secret + "}}"));
        answers.add(call("GET", "/api/v1/stats", ADMIN_KEY, null, null));
        answers.add(call("GET", "/api/v1/hosts", ADMIN_KEY, null, null));
        assertThat(answers).hasSizeGreaterThan(15);
        // Seven refusals: the text batch, the five above, and the retry of a job that completed (409).
        assertThat(answers).filteredOn(r -> r.status() >= 400).hasSize(7);
        for (Response answer : answers) {
            assertThat(answer.body()).as("an answer (%d)", answer.status()).doesNotContain(secret);
        }
        // Nor any log line, at debug level, of the API, the worker or the HTTP client; nor any key.
        assertThat(output.getAll()).contains("created for tenant secrets").doesNotContain(secret).doesNotContain(ADMIN_KEY)
                .doesNotContain(key);
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private String siteUrl(String path) {
        return "http://127.0.0.1:" + site.getAddress().getPort() + path;
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private long count(String table) {
        return sql.sql("SELECT count(*) FROM " + table).query(Long.class).single();
    }

    private String createKey(String tenant, String... scopes) {
        Response created = call("POST", "/api/v1/keys", ADMIN_KEY, "application/json",
                "{\"tenant\": \"" + tenant + "\", \"scopes\": " + JSON.writeValueAsString(scopes) + "}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json().get("key").asString();
    }

    private long submitJob(String key, String json) {
        Response created = call("POST", "/api/v1/jobs", key, "application/json", json);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json().get("id").asLong();
    }

    private static void await(Callable<Boolean> condition) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(condition);
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private Response call(String method, String path, String key, String contentType, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        HttpResponse<String> response = send(request);
        return new Response(response.statusCode(), response.headers().firstValue("Content-Type").orElse(null),
                response.headers().firstValue("Location").orElse(null), response.body());
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
