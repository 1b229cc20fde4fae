package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.fetchq.db.Claim;
import io.fetchq.db.ClaimedJob;
import io.fetchq.db.CrawlLink;
import io.fetchq.db.CrawlQueries;
import io.fetchq.url.CrawlUrls;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.crawl.CrawlLinks;
import io.fetchq.worker.fetch.HttpFetcher;
import io.fetchq.worker.process.Processor;
import io.fetchq.worker.robots.Robots;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/** How a crawl's page's links are judged before the database enqueues them. */
class CrawlLinksTest extends WorkerTestBase {

    private CrawlQueries crawls;
    private CrawlLinks links;
    private HttpFetcher fetcher;

    @org.junit.jupiter.api.AfterEach
    void closeFetcher() {
        fetcher.close();
    }

    @BeforeEach
    void crawls() {
        sql.sql("TRUNCATE fetchq.crawl, fetchq.crawl_host, fetchq.crawl_frontier, fetchq.crawl_link").update();
        crawls = new CrawlQueries(new JdbcTemplate(dataSource));
        var fetch = fetchSettings();
        fetcher = new HttpFetcher(new UrlPolicy(false), fetch, 8, TEST_DNS);
        links = new CrawlLinks(crawls, new UrlPolicy(false), new Robots(
                new io.fetchq.db.HostLedger(new JdbcTemplate(dataSource)).robots(), fetcher, settings().robots(), "w",
                Clock.systemUTC()), "fetchq/0.1");
    }

    private ClaimedJob page(List<String> exclude) {
        HttpUrl seed = HttpUrl.get("https://docs.example/");
        long id = crawls.create("default", new CrawlQueries.NewCrawl("same-host", List.of("docs.example"), List.of(),
                exclude, 3, 100, null, false, false, null, 0, 3, 10_000, 1 << 20, true, true, List.of("links"), null,
                List.of(new CrawlLink(0, null, 0, seed.toString(), CrawlUrls.keyHash(seed), seed.host(), null)))).id();
        return new ClaimedJob(new Claim(1, UUID.randomUUID(), 1), 3, 3, seed.toString(), seed.host(), "GET", null, null,
                10_000, 1 << 20, true, true, List.of(), null, false, new ClaimedJob.CrawlPage(id, 0, false));
    }

    private List<CrawlLink> judge(ClaimedJob job, String robotsTag, Processor.Found... found) {
        return links.of(job, job.url(), new Processor.Processed("x", null, null, List.of(found), false), robotsTag);
    }

    @Test
    void aCatastrophicPatternDoesNotHoldTheThread() {
        // Polynomial backtracking of a high degree: minutes of matching on this URL.
        ClaimedJob job = page(List.of("(.*x){10}z"));
        String evil = "https://docs.example/" + "x".repeat(60);

        List<CrawlLink> judged = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> judge(job, null, new Processor.Found(evil, false), new Processor.Found("https://docs.example/ok", false)));

        assertThat(judged).extracting(CrawlLink::skipped).containsExactly("scope", null);
    }

    @Test
    void aUrlIsFollowedIfAnyLinkToItIsFollowableWhateverItsSpelling() {
        List<CrawlLink> judged = judge(page(List.of()), null,
                new Processor.Found("https://docs.example/p?b=2&a=1", true),
                new Processor.Found("https://docs.example/p?a=1&b=2", false),
                new Processor.Found("https://docs.example/q", false),
                new Processor.Found("https://docs.example/q#again", true));

        assertThat(judged).extracting(l -> l.url() + " " + l.skipped()).containsExactly(
                "https://docs.example/p?b=2&a=1 null", "https://docs.example/q null");
    }

    @Test
    void xRobotsTagNamesTheCrawlerItAppliesToHeaderByHeader() {
        ClaimedJob job = page(List.of());
        Processor.Found link = new Processor.Found("https://docs.example/a", false);

        assertThat(judge(job, "otherbot: noindex\nnofollow", link)).extracting(CrawlLink::skipped).containsExactly("nofollow");
        assertThat(judge(job, "otherbot: noindex, nofollow", link)).extracting(CrawlLink::skipped).containsExactly((String) null);
        assertThat(judge(job, "fetchq: none", link)).extracting(CrawlLink::skipped).containsExactly("nofollow");
        assertThat(judge(job, "noindex", link)).extracting(CrawlLink::skipped).containsExactly((String) null);
    }
}
