package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.TestDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Property-based fuzzing of everything a caller can send: whatever the input, the API never answers
 * 500; every refusal is problem+json naming where the problem is, and writes nothing. Shrinking is
 * off: the assertion messages carry the whole failing request.
 */
class IntakeFuzzTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final List<String> FIELDS = List.of("url", "method", "headers", "body", "body_base64", "priority",
            "run_at", "delay_ms", "max_attempts", "timeout_ms", "max_body_bytes", "store_body", "follow_redirects",
            "extract", "idempotency_key", "metadata");

    private static ConfigurableApplicationContext api;
    private static JdbcClient sql;
    private static String base;

    @BeforeContainer
    static void start() {
        api = FetchqApiApplication.run("--server.port=0", "--spring.datasource.url=" + TestDatabase.newDatabase(),
                "--fetchq.worker.enabled=false", "--logging.level.root=WARN",
                "--fetchq.security.allow-anonymous=true", "--fetchq.security.submit-rate-limit=0",
                "--fetchq.security.read-rate-limit=0", "--spring.main.banner-mode=off");
        base = "http://127.0.0.1:" + ((WebServerApplicationContext) api).getWebServer().getPort();
        sql = api.getBean(JdbcClient.class);
    }

    @AfterContainer
    static void stop() {
        if (api != null) {
            api.close();
        }
    }

    // ---- inputs -----------------------------------------------------------------------------------

    @Provide
    Arbitrary<String> urls() {
        Arbitrary<String> scheme = Arbitraries.of("http://", "https://", "HTTP://", "ftp://", "", "//", "http:/", "javascript:");
        Arbitrary<String> host = Arbitraries.oneOf(
                Arbitraries.of("example.com", "127.0.0.1", "0x7f.1", "2130706433", "[::1]", "[::ffff:10.0.0.1]",
                        "localhost.", "xn--nxasmq6b.com", "bücher.example", "a@b@example.com", "[", "]", "..", "%00",
                        "example.com.", "[64:ff9b::a00:1]", "0", "256.1.1.1"),
                Arbitraries.strings().all().ofMaxLength(30));
        Arbitrary<String> port = Arbitraries.oneOf(Arbitraries.just(""), Arbitraries.integers().between(-5, 100_000).map(p -> ":" + p));
        Arbitrary<String> path = Arbitraries.strings().all().ofMaxLength(40).map(p -> "/" + p);
        return Combinators.combine(scheme, host, port, path).as((s, h, p, q) -> s + h + p + q);
    }

    @Provide
    Arbitrary<Object> values() {
        return Arbitraries.lazyOf(
                () -> Arbitraries.strings().all().ofMaxLength(30).map(s -> (Object) s),
                () -> urls().map(s -> (Object) s),
                () -> Arbitraries.longs().map(l -> (Object) l),
                () -> Arbitraries.doubles().map(d -> (Object) d),
                () -> Arbitraries.of(true, false).map(b -> (Object) b),
                () -> Arbitraries.just((Object) null),
                () -> Arbitraries.of("GET", "POST", "title", "links", "2026-01-01T00:00:00Z", "-1", "1e999").map(s -> (Object) s),
                // What PostgreSQL refuses that Java accepts: NUL in text, years outside 1 to 9999.
                () -> Arbitraries.of("\u0000", "a\u0000b", "0000-01-01T00:00:00Z", "-0001-12-31T23:59:59Z",
                        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "+10000-01-01T00:00:00Z",
                        "-999999999-01-01T00:00:00Z").map(s -> (Object) s),
                () -> values().list().ofMaxSize(3).map(l -> (Object) l),
                () -> Arbitraries.maps(Arbitraries.oneOf(Arbitraries.strings().alpha().ofMaxLength(8),
                        Arbitraries.of("k\u0000", "\u0000")), values()).ofMaxSize(3).map(m -> (Object) m));
    }

    @Provide
    Arbitrary<Map<String, Object>> jobs() {
        Arbitrary<String> key = Arbitraries.oneOf(Arbitraries.of(FIELDS), Arbitraries.strings().all().ofMaxLength(10));
        return Arbitraries.maps(key, values()).ofMaxSize(6);
    }

    // ---- properties ---------------------------------------------------------------------------------

    @Property(tries = 300, shrinking = ShrinkingMode.OFF)
    void oneJobNeverFailsTheServer(@ForAll("jobs") Map<String, Object> job) {
        exchange("POST", "/api/v1/jobs", "application/json", JSON.writeValueAsString(job), "pointer");
    }

    @Property(tries = 200, shrinking = ShrinkingMode.OFF)
    void aJsonBatchNeverFailsTheServer(@ForAll("jobs") Map<String, Object> defaults,
            @ForAll("jobs") Map<String, Object> first, @ForAll("urls") String url) {
        String body = JSON.writeValueAsString(Map.of("defaults", defaults, "jobs", List.of(first, Map.of("url", url))));
        exchange("POST", "/api/v1/batches", "application/json", body, "pointer");
    }

    @Property(tries = 200, shrinking = ShrinkingMode.OFF)
    void aTextBatchNeverFailsTheServer(@ForAll("urls") String first, @ForAll("urls") String second,
            @ForAll("jobs") Map<String, Object> defaults) {
        String query = defaults.entrySet().stream().filter(e -> e.getValue() != null)
                .map(e -> enc(e.getKey()) + "=" + enc(String.valueOf(e.getValue())))
                .collect(Collectors.joining("&"));
        exchange("POST", "/api/v1/batches?" + query, "text/plain", first + "\n" + second + "\n", "line", "parameter");
    }

    @Property(tries = 200, shrinking = ShrinkingMode.OFF)
    void rawBytesNeverFailTheServer(@ForAll byte[] body) {
        exchange("POST", "/api/v1/jobs", "application/json", new String(body, StandardCharsets.ISO_8859_1), "pointer");
    }

    @Property(tries = 200, shrinking = ShrinkingMode.OFF)
    void listingsNeverFailTheServer(@ForAll("values") Object host, @ForAll("values") Object state,
            @ForAll("values") Object limit, @ForAll("values") Object after) {
        String query = "host=" + enc(String.valueOf(host)) + "&state=" + enc(String.valueOf(state)) + "&limit="
                + enc(String.valueOf(limit)) + "&after_id=" + enc(String.valueOf(after));
        for (String path : List.of("/api/v1/jobs?" + query, "/api/v1/batches?limit=" + enc(String.valueOf(limit)),
                "/api/v1/hosts?limit=" + enc(String.valueOf(limit)))) {
            Result r = send("GET", path, null, null);
            assertThat(r.status()).as("%s -> %s", path, r.body()).isLessThan(500);
            if (r.status() == 400) {
                assertThat(JSON.readTree(r.body()).path("errors").get(0).has("parameter")).as(r.body()).isTrue();
            }
        }
    }

    @Property(tries = 100, shrinking = ShrinkingMode.OFF)
    void keyCreationNeverFailsTheServer(@ForAll("values") Object tenant, @ForAll("values") Object name,
            @ForAll("values") Object scope) {
        Map<String, Object> key = new java.util.HashMap<>();
        key.put("tenant", tenant);
        key.put("name", name);
        key.put("scopes", java.util.Arrays.asList(scope));
        Result r = send("POST", "/api/v1/keys", "application/json", JSON.writeValueAsString(key));
        assertThat(r.status()).as("%s -> %s", key, r.body()).isLessThan(500);
    }

    @Property(tries = 300, shrinking = ShrinkingMode.OFF)
    void urlParsingNeverFailsTheServer(@ForAll("urls") String url) {
        Result r = send("GET", "/api/v1/urls/parse?url=" + enc(url), null, null);
        assertThat(r.status()).as("%s -> %s", url, r.body()).isEqualTo(url.isBlank() || url.contains("\u0000") ? 400 : 200);
        if (r.status() == 200) {
            JsonNode parsed = JSON.readTree(r.body());
            assertThat(parsed.get("allowed").asBoolean() || !parsed.get("reason").asString().isBlank())
                    .as("a refusal says why: %s", r.body()).isTrue();
        }
    }

    // ---- checks -------------------------------------------------------------------------------------

    private record Result(int status, String contentType, String body) {
    }

    /** Sends one request: never a 5xx; a refusal is problem+json naming where, and writes nothing. */
    private static void exchange(String method, String path, String type, String body, String... where) {
        long before = rows();
        Result r = send(method, path, type, body);
        assertThat(r.status()).as("%s %s\n%s\n-> %s", method, path, body, r.body()).isLessThan(500);
        if (r.status() >= 400) {
            assertThat(r.contentType()).as(r.body()).startsWith("application/problem+json");
            JsonNode problem = JSON.readTree(r.body());
            assertThat(problem.path("detail").asString()).isNotBlank();
            if (r.status() == 400) {
                assertThat(problem.path("errors").size()).as("errors of %s", r.body()).isPositive();
                for (JsonNode error : problem.path("errors")) {
                    assertThat(List.of(where)).as("where %s names", error).anyMatch(error::has);
                }
            }
            assertThat(rows()).as("a refused request writes nothing").isEqualTo(before);
        }
    }

    private static long rows() {
        return sql.sql("SELECT (SELECT count(*) FROM fetchq.job) + (SELECT count(*) FROM fetchq.batch)")
                .query(Long.class).single();
    }

    private static Result send(String method, String path, String type, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path));
        if (body == null) {
            request.GET();
        } else {
            request.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        try {
            HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Result(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                    response.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
