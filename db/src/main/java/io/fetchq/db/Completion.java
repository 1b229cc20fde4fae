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

    /** PostgreSQL text and jsonb refuse NUL, which remote servers can put in anything they send. */
    public Completion {
        contentType = text(contentType);
        bodySha256 = text(bodySha256);
        title = text(title);
        linksJson = json(linksJson);
        finalUrl = text(finalUrl);
        errorKind = text(errorKind);
        errorMessage = text(errorMessage);
        remoteIp = text(remoteIp);
        redirectsJson = json(redirectsJson);
    }

    private static String text(String s) {
        return s == null || s.indexOf('\u0000') < 0 ? s : s.replace("\u0000", "");
    }

    private static String json(String s) {
        return s == null || !s.contains("\\u0000") ? s : s.replace("\\u0000", "");
    }

    /** The same ended attempt without any text taken from the remote: what is left to store when the rest cannot be. */
    public Completion withoutRemoteText() {
        return new Completion(jobId, leaseToken, attempt, finalState, retryDelayMs, release, startedAt, finishedAt,
                statusCode, null, bodyBytes, bodyTruncated, bodySha256, null, null, null, errorKind,
                errorMessage == null ? null : "result could not be stored", dnsMs, connectMs, tlsMs, ttfbMs, totalMs,
                null, null, null);
    }

    /** Bytes this completion holds in memory until written. */
    public long weight() {
        return 512 + (body == null ? 0 : body.length) + (linksJson == null ? 0 : linksJson.length());
    }
}
