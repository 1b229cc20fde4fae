package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Politeness for the whole fleet, as a site operator sees it: the built API and four worker jars at
 * their default politeness ({@code per-host} 8) and a rate of 20/s for one host, against four hosts
 * of one loopback site (one address each) that count requests in flight per host. Hosts 1 and 2
 * serve 1,000 and 500 pages of 100 ms; host 3, 300 pages at its rate; host 4, 200 pages, its first
 * answer a 429 with {@code Retry-After: 8}. One worker is killed with SIGKILL mid-batch.
 *
 * <p>Promised, and checked on the server: never more than 8 requests in flight to a host from all
 * workers together; host 3 at most 10 % over 20 requests a second in any 10 s; no request to host 4
 * from one second after its 429 until its pause ends; the killed worker's share of host 1 back in
 * use within its lease; and a second batch of host 1 run by the surviving workers within twice the
 * time its limit and latency allow (politeness must not cost throughput).
 */
class FleetPolitenessTest {

    private static final int WORKERS = 4;
    private static final int PER_HOST = 8;
    private static final double RATE = 20;
    private static final int RETRY_AFTER_S = 8;
    private static final int PAGE_MS = 100;
    private static final Duration LEASE = Duration.ofSeconds(5);
    private static final Duration SYNC = Duration.ofMillis(500);

    private final Jars jars = new Jars();
    private final HttpClient http = HttpClient.newHttpClient();
    private PoliteSite site;

    @AfterEach
    void stop() {
        jars.close();
        if (site != null) {
            site.close();
        }
    }

    @Test
    void fourWorkersHoldEachHostsLimitRateAndPauseTogether() throws Exception {
        String db = TestDatabase.newDatabase();
        site = new PoliteSite(4, PAGE_MS, Map.of("127.0.0.4", RETRY_AFTER_S));
        String api = jars.startApi("fleet-api", db);
        List<Process> workers = new ArrayList<>();
        for (int w = 1; w <= WORKERS; w++) {
            workers.add(jars.start("fleet-w" + w, Jars.WORKER, List.of("--spring.datasource.url=" + db,
                    "--server.port=0", "--fetchq.worker.id=fleet-w" + w, "--fetchq.worker.lease=" + LEASE.toMillis() + "ms",
                    "--fetchq.worker.host-sync-interval=" + SYNC.toMillis() + "ms",
                    "--fetchq.worker.host-rates[127.0.0.3]=" + RATE, "--fetchq.fetch.allow-private-networks=true")));
        }
        Awaitility.await("workers up").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.workers WHERE state = 'running'") == WORKERS);

        String batch = submit(api, Map.of(1, 1000, 2, 500, 3, 300, 4, 200));
        // Killed once host 1 is well under way: its share must come back to the others.
        Awaitility.await("host 1 under way").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> site.host(1).arrivals.size() >= 200);
        long killedAt = System.nanoTime();
        workers.getFirst().destroyForcibly();
        awaitDone(api, batch, Duration.ofSeconds(180));

        assertThat(Net.count(db, "SELECT count(*) FROM fetchq.job_results WHERE state = 'completed' AND status_code = 200"))
                .as("every page fetched").isEqualTo(2000);
        for (int h = 1; h <= 4; h++) {
            assertThat(site.host(h).peak.get()).as("requests in flight to host %d from all workers at once", h)
                    .isBetween(1, PER_HOST);
        }
        long busiest = site.host(3).busiestWindow(Duration.ofSeconds(10).toNanos());
        System.out.printf("host 3 (rate %.0f/s): busiest 10 s window %d requests; host 1 peak %d, host 2 peak %d%n",
                RATE, busiest, site.host(1).peak.get(), site.host(2).peak.get());
        assertThat(busiest).as("host 3's requests in any 10 s, at %.0f/s", RATE).isLessThanOrEqualTo((long) (RATE * 10 * 1.1));
        PoliteSite.Host paused = site.host(4);
        assertThat(paused.tooManyAtNanos).as("host 4 answered 429").isNotZero();
        long pauseFrom = paused.tooManyAtNanos + Duration.ofSeconds(1).toNanos();
        long pauseTo = paused.tooManyAtNanos + Duration.ofSeconds(RETRY_AFTER_S).toNanos() - Duration.ofMillis(100).toNanos();
        assertThat(paused.arrivedBetween(pauseFrom, pauseTo))
                .as("requests to host 4 from 1 s after its 429 until its Retry-After is over").isZero();
        assertThat(site.host(1).peakAfter(killedAt + LEASE.plus(SYNC.multipliedBy(4)).toNanos()))
                .as("host 1's requests in flight once the killed worker's share expired: all its limit in use again")
                .isEqualTo(PER_HOST);

        // A second batch of one host, run by the three surviving workers.
        int pages = 800;
        long started = System.nanoTime();
        String second = submit(api, Map.of(1, pages));
        awaitDone(api, second, Duration.ofSeconds(120));
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        Duration ideal = Duration.ofMillis((long) pages * PAGE_MS / PER_HOST);
        System.out.printf("second batch: %d pages of %d ms on one host at %d in flight took %d ms (ideal %d ms)%n",
                pages, PAGE_MS, PER_HOST, took.toMillis(), ideal.toMillis());
        assertThat(took).as("within twice what the host's limit and latency allow").isLessThanOrEqualTo(ideal.multipliedBy(2));
        assertThat(site.host(1).peak.get()).isLessThanOrEqualTo(PER_HOST);
        assertThat(Net.count(db, "SELECT count(*) FROM fetchq.hosts WHERE host = '127.0.0.4' AND breaker = 'closed'"))
                .as("host 4 in view fetchq.hosts").isEqualTo(1);
    }

    /** Submits a batch of {@code pages.get(h)} pages on each host h, as text, and answers its id. */
    private String submit(String api, Map<Integer, Integer> pages) throws Exception {
        StringJoiner urls = new StringJoiner("\n");
        pages.forEach((host, n) -> {
            for (int i = 0; i < n; i++) {
                urls.add(site.url(host, "/page/" + System.nanoTime() + "-" + i));
            }
        });
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/batches"))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(urls.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return Net.field(created.body(), "id");
    }

    private void awaitDone(String api, String batch, Duration atMost) {
        Awaitility.await("batch " + batch + " done").atMost(atMost).pollInterval(Duration.ofMillis(50))
                .until(() -> Net.field(http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/batches/" + batch
                        + "?wait_ms=5000")).build(), HttpResponse.BodyHandlers.ofString()).body(), "done").equals("true"));
    }

}
