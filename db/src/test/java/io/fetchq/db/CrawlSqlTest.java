package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.Concurrently;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The frontier statement: each URL once per crawl, and limits that hold exactly under concurrent writers. */
class CrawlSqlTest extends SqlTestBase {

    private final CrawlQueries crawls = new CrawlQueries(jdbc);

    private long crawl(int maxPages, Integer perHost) {
        return crawls.create("default", new CrawlQueries.NewCrawl("same-host", List.of("a.example", "b.example"),
                List.of(), List.of(), 5, maxPages, perHost, false, true, null, 0, 3, 10_000, 1 << 20, true, true,
                List.of("links"), null, List.of(link(0, null, "http://a.example/", null)))).id();
    }

    private static CrawlLink link(long crawl, Long from, String url, String skipped) {
        try {
            byte[] key = MessageDigest.getInstance("SHA-256").digest(url.getBytes(StandardCharsets.UTF_8));
            return new CrawlLink(crawl, from, 1, url, key, java.net.URI.create(url).getHost(), skipped);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private long enqueueAlone(List<CrawlLink> links) {
        return tx.execute(s -> {
            crawls.lockCrawls(links.stream().map(CrawlLink::crawlId).toList());
            return crawls.enqueue(links);
        });
    }

    private Map<String, Object> counts(long id) {
        return sql.sql("SELECT * FROM fetchq.crawl WHERE id = :id").param("id", id).query().singleRow();
    }

    @Test
    void eachUrlIsEnqueuedOnceAndEveryLinkIsRecordedWithWhatBecameOfIt() {
        long id = crawl(100, null);
        long seed = sql.sql("SELECT id FROM fetchq.job WHERE crawl_id = :id").param("id", id).query(Long.class).single();
        long enqueued = enqueueAlone(List.of(
                link(id, seed, "http://a.example/1", null),
                link(id, seed, "http://a.example/1", null),
                link(id, seed, "http://a.example/", null),
                link(id, seed, "http://other.example/", "scope"),
                link(id, seed, "http://a.example/private", "robots"),
                link(id, seed, "http://a.example/trap", "nofollow")));

        assertThat(enqueued).isEqualTo(1);
        assertThat(sql.sql("""
                SELECT to_url || ' ' || COALESCE(skipped, 'enqueued') || ' ' || (to_job_id IS NOT NULL)
                FROM fetchq.crawl_links WHERE from_job_id = :seed ORDER BY to_url, skipped NULLS FIRST""")
                .param("seed", seed).query(String.class).list()).containsExactly(
                "http://a.example/ duplicate true",
                "http://a.example/1 enqueued true",
                "http://a.example/1 duplicate true",
                "http://a.example/private robots false",
                "http://a.example/trap nofollow false",
                "http://other.example/ scope false");
        Map<String, Object> c = counts(id);
        assertThat(c).containsEntry("discovered", 7L).containsEntry("enqueued", 2L).containsEntry("skipped_duplicate", 2L)
                .containsEntry("skipped_scope", 1L).containsEntry("skipped_robots", 1L)
                .containsEntry("skipped_nofollow", 1L);
        assertThat(sql.sql("SELECT total FROM fetchq.batch_progress b JOIN fetchq.crawl c ON c.batch_id = b.batch_id "
                + "WHERE c.id = :id").param("id", id).query(Long.class).single()).isEqualTo(2);
        Map<String, Object> page = sql.sql("SELECT depth, parent_job_id, robots, state FROM fetchq.job WHERE url = "
                + "'http://a.example/1'").query().singleRow();
        assertThat(page).containsEntry("depth", 1).containsEntry("parent_job_id", seed).containsEntry("robots", true)
                .containsEntry("state", "queued");
    }

    @Test
    void concurrentWritersNeverEnqueueMoreThanMaxPagesOrPerHostOrAnyUrlTwice() throws Exception {
        long id = crawl(60, 35);
        // Eight writers at once, each with 100 links, overlapping, on two hosts.
        List<Long> enqueued = Concurrently.run(8, w -> () -> {
            List<CrawlLink> links = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                int n = (w * 37 + i * 11) % 150;
                links.add(link(id, null, "http://" + (n % 2 == 0 ? "a" : "b") + ".example/" + n, null));
            }
            return enqueueAlone(links);
        });

        assertThat(enqueued.stream().mapToLong(Long::longValue).sum()).isEqualTo(59);
        assertThat(counts(id)).containsEntry("enqueued", 60L).containsEntry("discovered", 801L);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job WHERE crawl_id = :id").param("id", id).query(Long.class)
                .single()).isEqualTo(60);
        assertThat(sql.sql("SELECT count(DISTINCT url) FROM fetchq.job WHERE crawl_id = :id").param("id", id)
                .query(Long.class).single()).isEqualTo(60);
        assertThat(sql.sql("SELECT max(n) FROM (SELECT count(*) AS n FROM fetchq.job WHERE crawl_id = :id GROUP BY host) h")
                .param("id", id).query(Long.class).single()).isLessThanOrEqualTo(35);
        Map<String, Object> c = counts(id);
        assertThat((Long) c.get("enqueued") + (Long) c.get("skipped_duplicate") + (Long) c.get("skipped_limit"))
                .isEqualTo(801L);
    }

    @Test
    void aCancelledCrawlEnqueuesNothingMore() {
        long id = crawl(100, null);
        sql.sql("UPDATE fetchq.crawl SET cancelled = true WHERE id = :id").param("id", id).update();

        assertThat(enqueueAlone(List.of(link(id, null, "http://a.example/late", null)))).isZero();
        assertThat(sql.sql("SELECT skipped FROM fetchq.crawl_links WHERE to_url = 'http://a.example/late'")
                .query(String.class).single()).isEqualTo("limit");
    }
}
