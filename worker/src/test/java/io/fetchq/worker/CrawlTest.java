package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.CrawlLink;
import io.fetchq.db.CrawlQueries;
import io.fetchq.db.testing.CrawlSite;
import io.fetchq.url.CrawlUrls;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/** Crawls of a generated loopback site by workers in this process. */
class CrawlTest extends WorkerTestBase {

    private CrawlSite site;
    private CrawlQueries crawls;

    @BeforeEach
    void site() throws Exception {
        sql.sql("TRUNCATE fetchq.crawl, fetchq.crawl_host, fetchq.crawl_frontier, fetchq.crawl_link").update();
        Map<String, Integer> hosts = new LinkedHashMap<>();
        hosts.put("a.site.test", 60);
        hosts.put("b.site.test", 40);
        hosts.put("c.site.test", 30);
        site = new CrawlSite(hosts);
        crawls = new CrawlQueries(new JdbcTemplate(dataSource));
    }

    @AfterEach
    void closeSite() throws Exception {
        site.close();
    }

    private long crawl(List<CrawlSite.Page> seeds, int maxDepth, int maxPages, Integer perHost) {
        return crawl(seeds, maxDepth, maxPages, perHost, false);
    }

    private long crawl(List<CrawlSite.Page> seeds, int maxDepth, int maxPages, Integer perHost, boolean sitemaps) {
        Set<String> keys = new HashSet<>();
        List<CrawlLink> links = seeds.stream().map(p -> {
            HttpUrl url = HttpUrl.get(site.url(p.host(), p.path()));
            keys.add(CrawlUrls.scopeKey(CrawlUrls.Scope.SAME_HOST, url));
            return new CrawlLink(0, null, 0, url.toString(), CrawlUrls.keyHash(url), url.host(), null);
        }).toList();
        return crawls.create("default", new CrawlQueries.NewCrawl("same-host", List.copyOf(keys), List.of(), List.of(),
                maxDepth, maxPages, perHost, sitemaps, true, null, 0, 3, 10_000, 1 << 20, true, true,
                List.of("title", "links"), null, links)).id();
    }

    private Map<String, Object> awaitCrawl(long id) {
        await("crawl " + id + " done", Duration.ofSeconds(60), () -> sql.sql(
                "SELECT done FROM fetchq.crawls WHERE crawl_id = :id").param("id", id).query(Boolean.class).single());
        return sql.sql("SELECT * FROM fetchq.crawls WHERE crawl_id = :id").param("id", id).query().singleRow();
    }

    @Test
    void aCrawlFetchesExactlyThePagesTheRulesAllowEachOnce() {
        // b's robots.txt answers 503: its pages are enqueued (links to them are in scope) but never fetched.
        site.robots("b.site.test", 503, "down");
        List<CrawlSite.Page> seeds = List.of(new CrawlSite.Page("a.site.test", "/p/0"),
                new CrawlSite.Page("b.site.test", "/p/0"));
        long id = crawl(seeds, 100, 10_000, null);
        startWorker(settings("robots.retry-unreachable", "200ms", "robots.max-wait", "1s"));
        startWorker(settings("robots.retry-unreachable", "200ms", "robots.max-wait", "1s"));

        Map<String, Object> crawl = awaitCrawl(id);

        Set<CrawlSite.Page> expected = site.expected(seeds, 100, Set.of("b.site.test"));
        Map<CrawlSite.Page, Integer> fetched = site.fetched();
        assertThat(fetched.keySet()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(fetched.values()).as("each page once").allMatch(n -> n == 1);
        assertThat(crawl.get("state")).isEqualTo("completed");
        // What the crawl says of itself adds up.
        long links = sql.sql("SELECT count(*) FROM fetchq.crawl_links WHERE crawl_id = :id").param("id", id)
                .query(Long.class).single();
        assertThat(crawl.get("discovered")).isEqualTo(links);
        assertThat((Long) crawl.get("enqueued") + (Long) crawl.get("skipped_scope") + (Long) crawl.get("skipped_robots")
                + (Long) crawl.get("skipped_duplicate") + (Long) crawl.get("skipped_limit")
                + (Long) crawl.get("skipped_nofollow")).isEqualTo(links);
        assertThat(crawl.get("fetched")).isEqualTo((long) expected.size());
        long bPages = sql.sql("SELECT count(*) FROM fetchq.job_results WHERE crawl_id = :id AND host = 'b.site.test'")
                .param("id", id).query(Long.class).single();
        assertThat(bPages).isPositive();
        assertThat(sql.sql("""
                SELECT DISTINCT error_kind FROM fetchq.job_results WHERE crawl_id = :id AND host = 'b.site.test'""")
                .param("id", id).query(String.class).list()).containsExactly("robots");
        assertThat((Long) crawl.get("enqueued")).isEqualTo(expected.size() + bPages);
        Map<String, Long> skipped = new LinkedHashMap<>();
        sql.sql("SELECT skipped, count(*) FROM fetchq.crawl_links WHERE crawl_id = :id AND skipped IS NOT NULL GROUP BY 1")
                .param("id", id).query((rs, n) -> skipped.put(rs.getString(1), rs.getLong(2))).list();
        assertThat(skipped).containsKeys("nofollow", "robots", "scope", "duplicate");
        // Links to /private/ are refused by robots.txt (those of pages that say nofollow are not read that
        // far), to the trap by rel=nofollow.
        assertThat(sql.sql("""
                SELECT DISTINCT skipped FROM fetchq.crawl_links
                WHERE crawl_id = :id AND to_url LIKE '%/private/%' AND skipped <> 'nofollow'""")
                .param("id", id).query(String.class).list()).containsExactly("robots");
        assertThat(sql.sql("SELECT DISTINCT skipped FROM fetchq.crawl_links WHERE crawl_id = :id AND to_url LIKE '%/trap/%'")
                .param("id", id).query(String.class).list()).containsExactly("nofollow");
        // Every page's depth and parent: a seed is depth 0 without parent, others one more than their parent.
        assertThat(sql.sql("""
                SELECT count(*) FROM fetchq.job_results r
                LEFT JOIN fetchq.job_results p ON p.job_id = r.parent_job_id
                WHERE r.crawl_id = :id AND NOT (r.parent_job_id IS NULL AND r.depth = 0 OR r.depth = p.depth + 1)""")
                .param("id", id).query(Long.class).single()).isZero();
    }

    @Test
    void aPageAtMaxDepthIsFetchedButItsLinksAreNotFollowed() {
        List<CrawlSite.Page> seeds = List.of(new CrawlSite.Page("a.site.test", "/p/0"));
        long id = crawl(seeds, 2, 10_000, null);
        startWorker(settings());

        awaitCrawl(id);

        assertThat(site.fetched().keySet()).containsExactlyInAnyOrderElementsOf(site.expected(seeds, 2, Set.of()));
        assertThat(sql.sql("SELECT max(depth) FROM fetchq.job_results WHERE crawl_id = :id").param("id", id)
                .query(Integer.class).single()).isEqualTo(2);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.crawl_links WHERE crawl_id = :id AND skipped = 'depth'")
                .param("id", id).query(Long.class).single()).isPositive();
    }

    @Test
    void sitemapsNamedByRobotsTxtBringPagesNoLinkLeadsTo() {
        site.sitemaps("a.site.test", 5);
        List<CrawlSite.Page> seeds = List.of(new CrawlSite.Page("a.site.test", "/p/0"));
        long id = crawl(seeds, 1, 10_000, null, true);
        startWorker(settings());

        Map<String, Object> crawl = awaitCrawl(id);

        for (int i = 0; i < 5; i++) {
            assertThat(site.hits("a.site.test", "/orphan/" + i)).as("orphan %d", i).isEqualTo(1);
        }
        assertThat(site.hits("a.site.test", "/sitemap-index.xml")).isEqualTo(1);
        assertThat(site.hits("a.site.test", "/sitemap-1.xml")).isEqualTo(1);
        // Orphans are depth 1, found by the sitemap; /p/1 also linked by the seed is fetched once.
        assertThat(sql.sql("""
                SELECT DISTINCT r.depth || ' ' || s.url FROM fetchq.job_results r JOIN fetchq.job s ON s.id = r.parent_job_id
                WHERE r.crawl_id = :id AND r.url LIKE '%/orphan/%'""").param("id", id).query(String.class).list())
                .containsExactly("1 " + site.url("a.site.test", "/sitemap-1.xml"));
        assertThat(site.hits("a.site.test", "/p/1")).isEqualTo(1);
        // Sitemaps are not pages: the crawl's page counts leave them out.
        Set<CrawlSite.Page> pages = site.expected(seeds, 1, Set.of());
        assertThat(crawl.get("enqueued")).isEqualTo((long) pages.size() + 5);
    }

    @Test
    void withoutSitemapsNoSitemapIsRead() {
        site.sitemaps("a.site.test", 5);
        long id = crawl(List.of(new CrawlSite.Page("a.site.test", "/p/0")), 1, 10_000, null, false);
        startWorker(settings());

        awaitCrawl(id);

        assertThat(site.hits("a.site.test", "/sitemap-index.xml")).isZero();
        assertThat(site.hits("a.site.test", "/orphan/0")).isZero();
    }

    @Test
    void maxPagesAndMaxPagesPerHostAreNeverExceeded() {
        List<CrawlSite.Page> seeds = List.of(new CrawlSite.Page("a.site.test", "/p/0"),
                new CrawlSite.Page("c.site.test", "/p/0"));
        long id = crawl(seeds, 100, 25, 15);
        startWorker(settings());
        startWorker(settings());

        Map<String, Object> crawl = awaitCrawl(id);

        assertThat(crawl.get("enqueued")).isEqualTo(25L);
        assertThat(site.fetched()).hasSize(25);
        Map<String, Long> perHost = new LinkedHashMap<>();
        sql.sql("SELECT host, count(*) FROM fetchq.job_results WHERE crawl_id = :id GROUP BY host").param("id", id)
                .query((rs, n) -> perHost.put(rs.getString(1), rs.getLong(2))).list();
        assertThat(perHost.values()).allMatch(n -> n <= 15);
        assertThat((Long) crawl.get("skipped_limit")).isPositive();
    }
}
