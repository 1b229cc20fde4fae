package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Crawls over REST: their seeds as a batch that grows, their counts, bad input refused naming each field. */
class CrawlApiTest extends ApiTestBase {

    @BeforeEach
    void noCrawls() {
        sql.sql("TRUNCATE fetchq.crawl, fetchq.crawl_host, fetchq.crawl_frontier, fetchq.crawl_link").update();
    }

    @Test
    void aCrawlStartsWithItsSeedsAsPagesOfDepthZero() {
        Response created = postJson("/api/v1/crawls", """
                {"seeds": ["https://Docs.Example/start", "https://docs.example/start#top", "https://blog.example/"],
                 "scope": "same-host", "include": ["/start", "blog"], "exclude": ["\\\\.pdf$"], "max_depth": 2,
                 "max_pages": 50, "max_pages_per_host": 20,
                 "defaults": {"headers": {"Accept-Language": "en"}, "max_attempts": 2, "metadata": {"run": "r1"}}}""");
        assertThat(created.status()).isEqualTo(201);
        JsonNode crawl = created.json();
        long id = crawl.get("id").asLong();
        assertThat(created.location()).isEqualTo("/api/v1/crawls/" + id);
        assertThat(crawl.get("state").asString()).isEqualTo("running");
        assertThat(crawl.get("done").asBoolean()).isFalse();
        assertThat(crawl.get("robots").asString()).isEqualTo("obey");
        // Two seeds are one page: the second is a duplicate.
        assertThat(crawl.get("discovered").asLong()).isEqualTo(3);
        assertThat(crawl.get("enqueued").asLong()).isEqualTo(2);
        assertThat(crawl.get("skipped_duplicate").asLong()).isEqualTo(1);
        assertThat(crawl.get("queued").asLong()).isEqualTo(2);

        List<Map<String, Object>> pages = sql.sql("""
                SELECT url, depth, parent_job_id, state, crawl_id, metadata::text AS metadata, max_attempts
                FROM fetchq.job_results WHERE crawl_id = :id ORDER BY job_id""").param("id", id).query().listOfRows();
        assertThat(pages).extracting(p -> p.get("url")).containsExactly("https://docs.example/start",
                "https://blog.example/");
        assertThat(pages).allSatisfy(p -> {
            assertThat(p.get("depth")).isEqualTo(0);
            assertThat(p.get("parent_job_id")).isNull();
            assertThat(p.get("max_attempts")).isEqualTo(2);
            assertThat((String) p.get("metadata")).contains("r1");
        });
        assertThat(sql.sql("SELECT robots FROM fetchq.job WHERE crawl_id = :id").param("id", id).query(Boolean.class)
                .list()).containsOnly(true);
        JsonNode batch = get("/api/v1/batches/" + crawl.get("batch_id").asLong()).json();
        assertThat(batch.get("total").asLong()).isEqualTo(2);

        assertThat(get("/api/v1/crawls/" + id).json().get("max_pages_per_host").asInt()).isEqualTo(20);
        assertThat(get("/api/v1/crawls").json()).hasSize(1);
    }

    @Test
    void aCrawlWithCredentialsKeepsToItsSeedsOrigins() {
        assertThat(postJson("/api/v1/crawls", """
                {"seeds": ["https://a.example/"], "scope": "same-origin",
                 "defaults": {"headers": {"Authorization": "Bearer x"}}}""").status()).isEqualTo(201);
    }

    @Test
    void aCancelledCrawlCancelsItsPages() {
        long id = postJson("/api/v1/crawls", "{\"seeds\": [\"https://example.com/\"], \"robots\": \"ignore\"}")
                .json().get("id").asLong();
        JsonNode cancelled = post("/api/v1/crawls/" + id + "/cancel").json();
        assertThat(cancelled.get("state").asString()).isEqualTo("cancelled");
        assertThat(cancelled.get("done").asBoolean()).isTrue();
        assertThat(sql.sql("SELECT state FROM fetchq.job_results WHERE crawl_id = :id").param("id", id)
                .query(String.class).list()).containsOnly("cancelled");
        post("/api/v1/crawls/987654/cancel").problem(404);
        get("/api/v1/crawls/987654").problem(404);
    }

    @Test
    void badCrawlsAreRefusedNamingEachFieldAndWriteNothing() {
        JsonNode problem = postJson("/api/v1/crawls", """
                {"seeds": ["https://example.com/", "ftp://example.com/", "http://10.0.0.7/"], "scope": "everywhere",
                 "include": ["("], "max_depth": -1, "max_pages": 0, "robots": "sometimes", "colour": "red",
                 "defaults": {"method": "POST", "idempotency_key": "k", "robots": "obey"}}""").problem(400);
        assertThat(problem.get("errors").findValuesAsString("pointer")).contains("/seeds/1", "/seeds/2", "/scope",
                "/include/0", "/max_depth", "/max_pages", "/robots", "/colour", "/defaults/method",
                "/defaults/idempotency_key", "/defaults/robots");
        postJson("/api/v1/crawls", "{}").problem(400);
        postJson("/api/v1/crawls", "{\"seeds\": []}").problem(400);
        postJson("/api/v1/crawls", "{\"seeds\": \"https://example.com/\"}").problem(400);
        postJson("/api/v1/crawls", "{\"seeds\": [\"https://a.example/\", \"https://b.example/\"], \"max_pages\": 1}")
                .problem(400);
        postJson("/api/v1/crawls", "{\"seeds\": [\"https://a.example/\"], \"max_pages\": 1000001}").problem(400);
        postJson("/api/v1/crawls", "[]").problem(400);
        // Every page gets the crawl's headers: credentials only with scope same-origin.
        JsonNode credentials = postJson("/api/v1/crawls", """
                {"seeds": ["https://a.example/"], "defaults": {"headers": {"Authorization": "Bearer x"}}}""").problem(400);
        assertThat(credentials.get("errors").findValuesAsString("pointer")).containsExactly("/defaults/headers");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.crawl").query(Long.class).single()).isZero();
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job WHERE crawl_id IS NOT NULL").query(Long.class).single())
                .isZero();
    }
}
