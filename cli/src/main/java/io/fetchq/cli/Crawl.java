package io.fetchq.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

/** {@code fetchq crawl URL...}: follow links from seeds within a scope, politely, with a progress bar. */
@Command(name = "crawl", mixinStandardHelpOptions = true,
        description = "Crawl from seed URLs: each page's links within the scope, each page once, obeying robots.txt.")
final class Crawl extends Fetchq.ApiCommand {

    @Parameters(paramLabel = "URL", arity = "1..*", description = "the seeds (depth 0)")
    List<String> seeds = new ArrayList<>();
    @Option(names = "--scope", description = "same-origin, same-host or same-site (default same-host)")
    String scope;
    @Option(names = "--max-pages", description = "pages enqueued at most, seeds included (default 1,000)")
    Integer maxPages;
    @Option(names = "--max-depth", description = "links of pages this deep are not followed (default 3)")
    Integer maxDepth;
    @Option(names = "--max-pages-per-host", description = "pages enqueued at most per host")
    Integer maxPagesPerHost;
    @Option(names = "--include", description = "a regex a link's URL must match (repeatable: any of them)")
    List<String> include;
    @Option(names = "--exclude", description = "a regex no link's URL may match (repeatable)")
    List<String> exclude;
    @Option(names = "--ignore-robots", description = "do not obey robots.txt (only for sites that are yours)")
    boolean ignoreRobots;
    @Option(names = "--sitemaps", description = "also read the sitemaps the seeds' robots.txt names")
    boolean sitemaps;
    @Option(names = "--wait", description = "follow the crawl with a progress bar until it is done")
    boolean waitForIt;
    @CommandLine.ArgGroup(exclusive = false, heading = "Page options (the crawl's defaults):%n")
    Fetchq.JobOptions page = new Fetchq.JobOptions();

    @Override
    public Integer call() {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("seeds", seeds);
        if (scope != null) {
            request.put("scope", scope);
        }
        if (maxPages != null) {
            request.put("max_pages", maxPages);
        }
        if (maxDepth != null) {
            request.put("max_depth", maxDepth);
        }
        if (maxPagesPerHost != null) {
            request.put("max_pages_per_host", maxPagesPerHost);
        }
        if (include != null) {
            request.put("include", include);
        }
        if (exclude != null) {
            request.put("exclude", exclude);
        }
        if (ignoreRobots) {
            request.put("robots", "ignore");
        }
        if (sitemaps) {
            request.put("sitemaps", true);
        }
        request.put("defaults", (page == null ? new Fetchq.JobOptions() : page).defaults());
        JsonNode crawl = api().post("/api/v1/crawls", "application/json", Api.JSON.writeValueAsBytes(request));
        long id = crawl.path("id").asLong();
        out().printf(Locale.ROOT, "crawl %d: %,d seeds, at most %,d pages%n", id, crawl.path("enqueued").asLong(),
                crawl.path("max_pages").asLong());
        if (!waitForIt) {
            return 0;
        }
        Progress progress = new Progress();
        while (!crawl.path("done").asBoolean()) {
            crawl = api().get("/api/v1/crawls/" + id + "?wait_ms=1000");
            progress.show(crawl);
        }
        progress.show(crawl);
        err().println();
        out().println(summary(crawl));
        return crawl.path("failed").asLong() > 0 || crawl.path("state").asString().equals("cancelled") ? Fetchq.FAILED : 0;
    }

    static String summary(JsonNode c) {
        return String.format(Locale.ROOT, "crawl %d: %,d fetched, %,d failed, %,d enqueued of %,d links (%,d duplicate, "
                        + "%,d out of scope, %,d refused by robots.txt, %,d nofollow, %,d over a limit) (%s)",
                c.path("id").asLong(), c.path("fetched").asLong(), c.path("failed").asLong(), c.path("enqueued").asLong(),
                c.path("discovered").asLong(), c.path("skipped_duplicate").asLong(), c.path("skipped_scope").asLong(),
                c.path("skipped_robots").asLong(), c.path("skipped_nofollow").asLong(), c.path("skipped_limit").asLong(),
                c.path("state").asString());
    }

    /** Pages ended of pages enqueued (which grows, up to max_pages), redrawn in place on standard error. */
    private final class Progress {
        private final long started = System.nanoTime();

        void show(JsonNode c) {
            long ended = c.path("fetched").asLong() + c.path("failed").asLong();
            long enqueued = Math.max(1, c.path("enqueued").asLong());
            double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
            int width = 30;
            int filled = (int) Math.min(width, width * ended / enqueued);
            err().printf(Locale.ROOT, "\r[%s%s] %,d/%,d pages  %,d links  failed %,d  %,.0f pages/s ", "#".repeat(filled),
                    "-".repeat(width - filled), ended, enqueued, c.path("discovered").asLong(), c.path("failed").asLong(),
                    ended / seconds);
            err().flush();
        }
    }
}
