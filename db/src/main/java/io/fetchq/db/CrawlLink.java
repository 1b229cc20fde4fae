package io.fetchq.db;

/**
 * One link a crawl read on a page (or one of its seeds), as {@link CrawlQueries#enqueue} takes it.
 *
 * @param crawlId the crawl
 * @param fromJobId the page it was found on; null for a seed
 * @param depth the depth of the page it names (its page's plus one; a seed's is 0)
 * @param url the link normalised (where the page is fetched, if it is)
 * @param key SHA-256 of its de-duplication key ({@code CrawlUrls.keyHash})
 * @param host its host, for {@code max_pages_per_host} and the job
 * @param skipped why it is not followed ({@code scope}, {@code robots}, {@code depth},
 *     {@code nofollow}, {@code blocked}), or null: a candidate, enqueued unless it is a duplicate or
 *     over a limit
 * @param sitemap a sitemap to read (from robots.txt or a sitemap index): enqueued once, outside the
 *     crawl's page limits, and not recorded as a link
 */
public record CrawlLink(long crawlId, Long fromJobId, int depth, String url, byte[] key, String host, String skipped,
        boolean sitemap) {

    /** A link to a page. */
    public CrawlLink(long crawlId, Long fromJobId, int depth, String url, byte[] key, String host, String skipped) {
        this(crawlId, fromJobId, depth, url, key, host, skipped, false);
    }
}
