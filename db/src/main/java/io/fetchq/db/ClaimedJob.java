package io.fetchq.db;

import java.time.Instant;
import java.util.List;

/**
 * A job a worker has claimed: the claim that fences every later write on it, and what to fetch.
 *
 * @param attemptLimit the highest attempt number the current budget allows
 * @param validators what a conditional GET sends of its URL's last 200, or null
 * @param obeyRobots whether the job is fetched only where its origin's robots.txt allows it
 * @param crawl the crawl the job is a page of, or null
 */
public record ClaimedJob(
        Claim claim,
        int attemptLimit,
        int maxAttempts,
        String url,
        String host,
        String method,
        String headersJson,
        byte[] body,
        int timeoutMs,
        int maxBodyBytes,
        boolean storeBody,
        boolean followRedirects,
        List<String> extract,
        Validators validators,
        boolean obeyRobots,
        CrawlPage crawl) {

    /** A crawl's page (or sitemap): its links (or URLs) are read and enqueued with its result. */
    public record CrawlPage(long crawlId, int depth, boolean sitemap) {
    }

    public long jobId() {
        return claim.jobId();
    }

    /**
     * A URL's validators from its last {@code 200} in the tenant, for {@code If-None-Match} (the
     * ETag, preferred) or {@code If-Modified-Since}; either may be null, not both.
     */
    public record Validators(String etag, Instant lastModified) {
    }

    /** Absolute number of the attempt this claim makes. */
    public int attempt() {
        return claim.attempt();
    }

    /** Whether another attempt fits in the budget after this one. */
    public boolean hasAttemptsLeft() {
        return claim.attempt() < attemptLimit;
    }

    /** 1 for the first attempt of the current budget. */
    public int attemptInBudget() {
        return claim.attempt() - (attemptLimit - maxAttempts);
    }

    /** The same claim, making its next attempt. */
    public ClaimedJob nextAttempt() {
        return new ClaimedJob(claim.next(), attemptLimit, maxAttempts, url, host, method, headersJson, body,
                timeoutMs, maxBodyBytes, storeBody, followRedirects, extract, validators, obeyRobots, crawl);
    }
}
