package io.fetchq.bench;

import io.fetchq.db.testing.CrawlSite;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code crawl-e2e}: a generated site of four hosts on loopback ({@link CrawlSite}, {@code
 * -Dbench.crawl-pages} pages in all, default 100,000: cycles, nofollow links and pages, a robots.txt
 * per host) crawled end to end from one seed per host, same-host, obeying robots.txt: by the API and
 * worker jars (a fresh worker per run, 16 in flight per host), and by Scrapy with
 * {@code ROBOTSTXT_OBEY=True} at the same concurrency when a python3 with Scrapy is here. Reports pages
 * per second from the POST to done, links recorded per second, and the frontier's size.
 */
final class CrawlBench {

    static final int PAGES = Integer.getInteger("bench.crawl-pages", 100_000);
    static final String HOSTS_PREFIX = "127.0.0.";

    private CrawlBench() {
    }

    static Bench.Scenario crawlE2e(Bench.Options options) throws Exception {
        BenchDatabase db = new BenchDatabase();
        Map<String, Integer> hosts = new LinkedHashMap<>();
        for (int h = 1; h <= 4; h++) {
            hosts.put(HOSTS_PREFIX + h, PAGES / 4);
        }
        CrawlSite site = new CrawlSite(hosts, InetAddress.getByName("0.0.0.0"), 0);
        int port = Launched.freePort();
        Launched api = Launched.api(db.url, port);
        String python = EndToEnd.python("scrapy");
        System.out.println("    crawl site: " + PAGES + " pages on 4 hosts; scrapy: " + (python == null ? "none here" : python));
        HttpClient http = HttpClient.newHttpClient();
        int[] runs = {0};
        return new Bench.Scenario() {
            @Override
            public Map<String, Double> run(boolean warmUp) throws Exception {
                Map<String, Double> run = new LinkedHashMap<>();
                List<String> seeds = new ArrayList<>();
                hosts.keySet().forEach(h -> seeds.add(site.url(h, "/p/0")));
                // The warm-up run crawls a tenth of the site (max_pages), to warm the API and PostgreSQL up.
                int maxPages = warmUp ? PAGES / 10 : PAGES * 2;
                if (python != null && !warmUp) {
                    scrapy(python, seeds, run);
                }
                Launched worker = Launched.worker("crawl-" + (++runs[0]), db.url, "--fetchq.worker.per-host=16");
                try {
                    Scenarios.await(() -> db.count("SELECT count(*) FROM fetchq.workers WHERE state = 'running'"
                            + " AND worker_id = 'crawl-" + runs[0] + "'") == 1, Duration.ofSeconds(120), "the worker to start");
                    long started = System.nanoTime();
                    String body = "{\"seeds\": [\"" + String.join("\", \"", seeds) + "\"], \"max_depth\": 100, "
                            + "\"max_pages\": " + maxPages + ", \"max_pages_per_host\": " + maxPages + "}";
                    HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/api/v1/crawls")).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                    Scenarios.check(created.statusCode() == 201, "the crawl was refused: " + created.body());
                    String id = EndToEnd.field(created.body(), "id");
                    String crawl;
                    do {
                        crawl = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/crawls/"
                                + id + "?wait_ms=60000")).build(), HttpResponse.BodyHandlers.ofString()).body();
                    } while (!EndToEnd.field(crawl, "done").equals("true"));
                    double seconds = (System.nanoTime() - started) / 1e9;
                    long fetched = Long.parseLong(EndToEnd.field(crawl, "fetched"));
                    long links = db.count("SELECT count(*) FROM fetchq.crawl_link WHERE crawl_id = " + id);
                    run.put("fetchq pages/s", fetched / seconds);
                    run.put("fetchq pages", (double) fetched);
                    run.put("fetchq links recorded/s", links / seconds);
                    run.put("fetchq links recorded", (double) links);
                    run.put("fetchq frontier rows", (double) db.count(
                            "SELECT count(*) FROM fetchq.crawl_frontier WHERE crawl_id = " + id));
                    run.put("fetchq seconds", seconds);
                    if (run.containsKey("scrapy pages/s")) {
                        run.put("fetchq ÷ scrapy (pages/s)", run.get("fetchq pages/s") / run.get("scrapy pages/s"));
                    }
                    run.put("crawl tables MB", db.count("SELECT pg_total_relation_size('fetchq.crawl_link') "
                            + "+ pg_total_relation_size('fetchq.crawl_frontier')") / 1e6);
                } finally {
                    worker.close();
                }
                return run;
            }

            @Override
            public void close() throws Exception {
                api.close();
                site.close();
                db.close();
            }
        };
    }

    /** Scrapy's crawl of the same site: its pages per second, and its CPU per page. */
    private static void scrapy(String python, List<String> seeds, Map<String, Double> run)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(python, Launched.root().resolve("scripts/scrapy-crawl.py").toString()));
        command.addAll(seeds);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        Scenarios.check(p.waitFor() == 0, "scrapy-crawl.py failed: " + out);
        String[] lines = out.split("\n");
        String[] parts = lines[lines.length - 1].strip().split("\\s+");
        Scenarios.check(parts.length == 3, "scrapy-crawl.py printed pages, seconds, CPU: " + out);
        double pages = Double.parseDouble(parts[0]);
        run.put("scrapy pages/s", pages / Double.parseDouble(parts[1]));
        run.put("scrapy pages", pages);
        run.put("scrapy CPU µs/page", Double.parseDouble(parts[2]) * 1e6 / pages);
    }
}
