package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.ChaosServer;
import io.fetchq.db.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One host, one batch that mixes good pages with flaky, failing, slow, hanging and resetting ones,
 * fetched by the built API and two worker jars at their default politeness: every job must end
 * final, each as its URL deserves, within a bound worked out from the settings — never stuck with
 * due jobs and idle workers.
 *
 * <p>The breaker's open time is {@code -Dfetchq.e2e.breaker-open-for} (default 5s, so that the test
 * is short; {@code 60s} is the product default); everything else is the workers' default but the
 * lease, which is 10 s as an operator would set it.
 */
class MixedHostDrainTest {

    private static final Duration OPEN_FOR = Duration.parse("PT" + System.getProperty("fetchq.e2e.breaker-open-for", "5s"));
    private static final int WORKERS = 2;
    /** The workers' default {@code per-host}: requests in flight to the host from both workers together. */
    private static final int PER_HOST = 8;
    /** The workers' default breaker: opens at 50 % of at least 10 counted calls; 5 trial calls. */
    private static final int BREAKER_MIN_FAILURES = 5;
    private static final int TRIAL_FAILURES_TO_REOPEN = 3;
    private static final Duration RETRY_BASE = Duration.ofSeconds(1);

    private final Jars jars = new Jars();
    private ChaosServer site;

    /** One kind of URL in the mix: how many, the job fields, and the path of job {@code i}. */
    private record Kind(String name, int count, String fields, java.util.function.IntFunction<String> path) {
    }

    private static final List<Kind> MIX = List.of(
            new Kind("ok", 1000, "", i -> "/page/ok-" + i),
            new Kind("flaky", 50, ", \"max_attempts\": 3", i -> "/flaky/f" + i + "/2"),
            new Kind("unavailable", 50, ", \"max_attempts\": 3", i -> "/status/503/" + i),
            new Kind("not-found", 20, "", i -> "/status/404/" + i),
            new Kind("too-many", 20, "", i -> "/retry-after/r" + i + "/1"),
            new Kind("hang", 20, ", \"timeout_ms\": 1000, \"max_attempts\": 2", i -> "/hang/" + i),
            new Kind("reset", 20, "", i -> "/reset/" + i),
            new Kind("big", 10, ", \"max_body_bytes\": 65536", i -> "/big/300000/" + i),
            new Kind("loop", 10, "", i -> "/loop/" + i),
            new Kind("redirects", 10, "", i -> "/redirect/3?i=" + i),
            new Kind("slow", 100, "", i -> "/slow/2000/" + i),
            new Kind("gzip", 10, ", \"extract\": [\"title\"]", i -> "/gzip/" + i));

    @AfterEach
    void stop() throws Exception {
        jars.close();
        if (site != null) {
            site.close();
        }
    }

    @Test
    void aBatchMixingGoodAndFailingUrlsOnOneHostDrainsCompletely() throws Exception {
        String db = TestDatabase.newDatabase();
        site = new ChaosServer();
        String api = jars.startApi("mix-api", db);
        for (int w = 1; w <= WORKERS; w++) {
            jars.start("mix-w" + w, Jars.WORKER, List.of("--spring.datasource.url=" + db, "--server.port=0",
                    "--fetchq.worker.id=mix-w" + w, "--fetchq.worker.lease=10s",
                    "--fetchq.worker.breaker-open-for=" + OPEN_FOR.toMillis() + "ms",
                    "--fetchq.fetch.allow-private-networks=true"));
        }
        Awaitility.await("workers up").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> count(db, "SELECT count(*) FROM fetchq.workers WHERE state = 'running'") == WORKERS);

        StringJoiner jobs = new StringJoiner(",\n", "{\"jobs\": [\n", "]}");
        int total = 0;
        for (Kind kind : MIX) {
            for (int i = 0; i < kind.count(); i++) {
                jobs.add("{\"url\": \"" + site.url(kind.path().apply(i)) + "\", \"metadata\": {\"kind\": \"" + kind.name()
                        + "\"}" + kind.fields() + "}");
            }
            total += kind.count();
        }
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/batches"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(jobs.toString()))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String batch = Net.field(created.body(), "id");
        long submitted = System.nanoTime();

        Duration bound = drainBound();
        Awaitility.await("every job final within " + bound).atMost(bound).pollInterval(Duration.ofMillis(100))
                .until(() -> Net.field(http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/batches/" + batch
                        + "?wait_ms=5000")).build(), HttpResponse.BodyHandlers.ofString()).body(), "done").equals("true"));
        Duration took = Duration.ofNanos(System.nanoTime() - submitted);

        Map<String, String> outcomes = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(db); ResultSet rs = c.createStatement().executeQuery("""
                SELECT metadata->>'kind' AS kind, string_agg(DISTINCT concat_ws(' ', state, status_code, error_kind,
                       'attempts=' || attempts, CASE WHEN body_truncated THEN 'truncated' END), ' | ') AS outcome
                FROM fetchq.job_results GROUP BY 1""")) {
            while (rs.next()) {
                outcomes.put(rs.getString("kind"), rs.getString("outcome"));
            }
        }
        System.out.printf("mixed one-host batch of %d jobs drained in %d ms (bound %d ms): %s%n", total,
                took.toMillis(), bound.toMillis(), outcomes);
        assertThat(outcomes).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                Map.entry("ok", "completed 200 attempts=1"),
                Map.entry("flaky", "completed 200 attempts=3"),
                Map.entry("unavailable", "failed 503 http_status attempts=3"),
                Map.entry("not-found", "completed 404 attempts=1"),
                Map.entry("too-many", "completed 200 attempts=2"),
                Map.entry("hang", "failed timeout attempts=2"),
                Map.entry("reset", "failed reset attempts=3"),
                Map.entry("big", "completed 200 attempts=1 truncated"),
                Map.entry("loop", "failed too_many_redirects attempts=1"),
                Map.entry("redirects", "completed 200 attempts=1"),
                Map.entry("slow", "completed 200 attempts=1"),
                Map.entry("gzip", "completed 200 attempts=1")));
        assertThat(count(db, "SELECT count(*) FROM fetchq.queue")).isZero();
        assertThat(count(db, """
                SELECT count(*) FROM fetchq.job_results r
                WHERE r.attempts <> (SELECT count(*) FROM fetchq.attempts a WHERE a.job_id = r.job_id)""")).isZero();
        assertThat(count(db, "SELECT count(*) FROM fetchq.job_results WHERE title = 'Page zipped'")).isEqualTo(10);
        assertThat(count(db, "SELECT count(*) FROM fetchq.job_results WHERE final_url LIKE '%/redirect/0'")).isEqualTo(10);
        assertThat(site.peak("127.0.0.1")).as("requests in flight to the host at once, from both workers")
                .isLessThanOrEqualTo(PER_HOST);
    }

    /**
     * How long the batch may take, from the settings: the time its fetches occupy the host's slots
     * ({@code per-host}, shared by the workers), plus the longest chain of one job's own attempts and
     * backoffs, plus the breaker. A breaker opens on at least {@value #BREAKER_MIN_FAILURES} newly
     * failing jobs, or opens again on {@value #TRIAL_FAILURES_TO_REOPEN} failed trials (jobs then
     * left out of the next trials), so it opens at most (host-failing jobs / 3) times (the breaker
     * is the fleet's: one worker makes the trials), each time for its open time plus a spread of up to one more. Then a minute for a shared,
     * noisy machine.
     */
    private static Duration drainBound() {
        double slotSeconds = 100 * 2.0 // slow pages
                + 20 * 2 * 1.0 // hanging pages: two attempts of 1 s
                + 1320 * 0.05; // every fetch's own round trips, generously
        double fetching = slotSeconds / PER_HOST;
        double ownChain = 2 * 1.0 + (1 + 2) * RETRY_BASE.toSeconds() * 1.2; // two timeouts, two backoffs
        int hostFailingJobs = 20 + 20; // hangs and resets: the host did not answer
        int openings = (int) Math.ceil(hostFailingJobs / (double) TRIAL_FAILURES_TO_REOPEN);
        double breaker = openings * 2.0 * OPEN_FOR.toSeconds();
        return Duration.ofSeconds((long) Math.ceil(fetching + ownChain + breaker + 60));
    }


    private static long count(String db, String sql) {
        return Net.count(db, sql);
    }
}
