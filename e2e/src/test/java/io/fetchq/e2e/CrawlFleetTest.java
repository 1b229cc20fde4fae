package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.CrawlSite;
import io.fetchq.db.testing.TestDatabase;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Crawls of a generated site of four hosts (a few thousand pages, cycles, nofollow, a robots.txt
 * per host, links to other sites, a robots.txt that answers 503 on one host) by the API jar and one,
 * two, then three worker jars, and once more with a worker SIGKILLed mid-crawl: each crawl fetches
 * exactly the pages the rules allow; each once, but for the pages the killed worker was fetching.
 */
class CrawlFleetTest {

    private final Jars jars = new Jars();
    private final List<CrawlSite> sites = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        jars.close();
        for (CrawlSite site : sites) {
            site.close();
        }
    }

    /** Hosts 127.0.0.1 to .4 (each linking to the next); .3's robots.txt answers 503; .4 is outside the scope. */
    private CrawlSite site() throws Exception {
        Map<String, Integer> hosts = new LinkedHashMap<>();
        hosts.put("127.0.0.1", 900);
        hosts.put("127.0.0.2", 700);
        hosts.put("127.0.0.3", 300);
        hosts.put("127.0.0.4", 200);
        CrawlSite site = new CrawlSite(hosts, InetAddress.getByName("0.0.0.0"), 0);
        site.robots("127.0.0.3", 503, "down for maintenance");
        sites.add(site);
        return site;
    }

    private void startWorker(String db, int n) throws Exception {
        jars.start("crawl-w" + n, Jars.WORKER, List.of("--spring.datasource.url=" + db, "--server.port=0",
                "--fetchq.worker.id=crawl-w" + n, "--fetchq.fetch.allow-private-networks=true",
                "--fetchq.worker.lease=3s", "--fetchq.worker.per-host=16",
                "--fetchq.worker.robots.retry-unreachable=500ms", "--fetchq.worker.robots.max-wait=3s"));
        Awaitility.await("worker " + n + " up").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.workers WHERE state = 'running'") == n);
    }

    private static final List<CrawlSite.Page> SEEDS = List.of(new CrawlSite.Page("127.0.0.1", "/p/0"),
            new CrawlSite.Page("127.0.0.2", "/p/0"), new CrawlSite.Page("127.0.0.3", "/p/0"));

    private String crawl(String api, CrawlSite site) throws Exception {
        String seeds = SEEDS.stream().map(p -> "\"" + site.url(p.host(), p.path()) + "\"").collect(Collectors.joining(", "));
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/crawls"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"seeds\": [" + seeds + "], \"max_depth\": 1000, "
                        + "\"max_pages\": 100000}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return Net.field(created.body(), "id");
    }

    private static void awaitDone(String db, String crawl) {
        Awaitility.await("crawl " + crawl + " done").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.crawls WHERE done AND crawl_id = " + crawl) == 1);
    }

    /** The site saw exactly the pages the rules allow, each once but for those in {@code refetchable}. */
    private static void assertFetchedExactly(CrawlSite site, String db, String crawl, Set<String> refetchable) {
        Set<CrawlSite.Page> expected = site.expected(SEEDS, 1000, Set.of("127.0.0.3"));
        Map<CrawlSite.Page, Integer> fetched = site.fetched();
        assertThat(fetched.keySet()).as("crawl %s: the pages fetched", crawl).containsExactlyInAnyOrderElementsOf(expected);
        List<String> twice = fetched.entrySet().stream().filter(e -> e.getValue() > 1)
                .map(e -> site.url(e.getKey().host(), e.getKey().path())).toList();
        assertThat(refetchable).as("crawl %s: pages fetched more than once", crawl).containsAll(twice);
        assertThat(Net.count(db, "SELECT count(*) FROM fetchq.job WHERE crawl_id = " + crawl))
                .as("each URL enqueued once")
                .isEqualTo(Net.count(db, "SELECT count(DISTINCT url) FROM fetchq.job WHERE crawl_id = " + crawl));
        assertThat(Net.count(db, "SELECT fetched FROM fetchq.crawls WHERE crawl_id = " + crawl))
                .isEqualTo(expected.size());
        assertThat(Net.count(db, """
                SELECT count(*) FROM fetchq.job_results WHERE crawl_id = %s AND host = '127.0.0.3'
                  AND (state <> 'failed' OR error_kind <> 'robots')""".formatted(crawl)))
                .as("pages of the host whose robots.txt answers 503 all failed on it").isZero();
    }

    @Test
    void oneTwoAndThreeWorkersCrawlExactlyWhatTheRulesAllowAndAKilledWorkerLosesNothing() throws Exception {
        String db = TestDatabase.newDatabase();
        String api = jars.startApi("crawl-api", db);
        for (int workers = 1; workers <= 3; workers++) {
            startWorker(db, workers);
            CrawlSite site = site();
            String crawl = crawl(api, site);
            awaitDone(db, crawl);
            assertFetchedExactly(site, db, crawl, Set.of());
        }

        // Three workers again; one is killed once a third of the pages are in.
        CrawlSite site = site();
        String crawl = crawl(api, site);
        int total = site.expected(SEEDS, 1000, Set.of("127.0.0.3")).size();
        Awaitility.await("a third fetched").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                .until(() -> site.fetched().size() >= total / 3);
        Process victim = jars.processes().get(2); // the API, then workers 1, 2, 3
        victim.destroyForcibly().waitFor();
        awaitDone(db, crawl);
        // Pages the killed worker held when it died came back after their lease and were fetched again.
        Set<String> lost = Set.copyOf(Net.strings(db, """
                SELECT j.url FROM fetchq.job j JOIN fetchq.attempt a ON a.job_id = j.id
                WHERE j.crawl_id = %s AND a.error_kind = 'lease_expired'""".formatted(crawl)));
        assertFetchedExactly(site, db, crawl, lost);
        assertThat(Net.count(db, "SELECT count(*) FROM fetchq.job WHERE crawl_id = " + crawl + " AND state = 'completed'"))
                .isEqualTo(total);
    }
}
