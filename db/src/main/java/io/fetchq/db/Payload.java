package io.fetchq.db;

import java.time.Instant;
import java.util.List;

/**
 * What a response brought back beyond its attempt's record: the job's result columns that
 * {@code fetchq.attempts} does not hold, and the body to store. Processed fields ({@code bodySha256},
 * {@code title}, {@code linksJson}) and the body are set only for a final result.
 *
 * @param etag the response's {@code ETag}, when it can be sent back as a request header
 * @param lastModified the response's {@code Last-Modified}, when it parses as an HTTP date
 * @param crawlLinks a crawl page's links, enqueued with its result (in the same transaction)
 */
public record Payload(
        String contentType,
        Long bodyBytes,
        Boolean bodyTruncated,
        String finalUrl,
        String bodySha256,
        String title,
        String linksJson,
        byte[] body,
        String etag,
        Instant lastModified,
        List<CrawlLink> crawlLinks) {

    /** No response: nothing came back. */
    public static final Payload NONE = new Payload(null, null, null, null, null, null, null, null, null, null);

    /** A payload without crawl links. */
    public Payload(String contentType, Long bodyBytes, Boolean bodyTruncated, String finalUrl, String bodySha256,
            String title, String linksJson, byte[] body, String etag, Instant lastModified) {
        this(contentType, bodyBytes, bodyTruncated, finalUrl, bodySha256, title, linksJson, body, etag, lastModified,
                List.of());
    }

    public Payload {
        crawlLinks = crawlLinks == null ? List.of() : List.copyOf(crawlLinks);
        contentType = Text.clean(contentType);
        finalUrl = Text.clean(finalUrl);
        bodySha256 = Text.clean(bodySha256);
        title = Text.clean(title);
        linksJson = Text.cleanJson(linksJson);
        etag = Text.clean(etag);
    }

    /** Without any text taken from the remote, nor the body. */
    Payload withoutRemoteText() {
        // The crawl's links are normalised URLs, clean of what a column refuses: they stay.
        return new Payload(null, bodyBytes, bodyTruncated, null, bodySha256, null, null, null, null, lastModified,
                crawlLinks);
    }

    /** Bytes held in memory until written. */
    long weight() {
        long links = 0;
        for (CrawlLink link : crawlLinks) {
            links += 96 + link.url().length();
        }
        return (body == null ? 0 : body.length) + (linksJson == null ? 0 : linksJson.length()) + links;
    }
}
