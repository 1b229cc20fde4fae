package io.fetchq.db;

import java.time.Instant;
import java.util.UUID;

/**
 * What a worker writes when an attempt ends: the attempt row, and either the job's final state and
 * result or when to try again. Written by {@link QueueQueries#completeMany}, fenced by the claim.
 *
 * @param finalState {@code completed} or {@code failed}; null to queue the job again after
 *     {@code retryDelayMs} (or, when {@code release} is set, to give the claim back without
 *     counting this attempt)
 * @param release the attempt never reached the remote (shutdown, open circuit): give the job
 *     back to the queue and do not count or record the attempt
 */
public record Completion(
        long jobId,
        UUID leaseToken,
        int attempt,
        String finalState,
        long retryDelayMs,
        boolean release,
        Instant startedAt,
        Instant finishedAt,
        Integer statusCode,
        String contentType,
        Long bodyBytes,
        Boolean bodyTruncated,
        String bodySha256,
        String title,
        String linksJson,
        String finalUrl,
        String errorKind,
        String errorMessage,
        Integer dnsMs,
        Integer connectMs,
        Integer tlsMs,
        Integer ttfbMs,
        Integer totalMs,
        String remoteIp,
        String redirectsJson,
        byte[] body) {

    public boolean isFinal() {
        return finalState != null;
    }

    /** Bytes this completion holds in memory until written. */
    public long weight() {
        return 512 + (body == null ? 0 : body.length) + (linksJson == null ? 0 : linksJson.length());
    }
}
