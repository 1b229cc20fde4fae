package io.fetchq.db;

import java.time.Instant;
import java.util.List;

/**
 * A validated, normalised job ready to insert. Defaults are already applied; JSON columns are
 * passed as text.
 *
 * @param runAt when the first attempt is due, or null for now + {@code delayMs}
 * @param conditional a GET that sends the validators of its URL's last 200 in the tenant
 * @param requestHash SHA-256 of the request as submitted, compared on idempotency-key reuse
 * @param robots fetched only where its origin's robots.txt allows ({@code "robots": "obey"})
 */
public record NewJob(
        String url,
        String host,
        String method,
        String headersJson,
        byte[] body,
        int priority,
        Instant runAt,
        long delayMs,
        int maxAttempts,
        int timeoutMs,
        int maxBodyBytes,
        boolean storeBody,
        boolean followRedirects,
        List<String> extract,
        boolean conditional,
        String idempotencyKey,
        byte[] requestHash,
        String metadataJson,
        boolean robots) {

    /** A job that does not obey robots.txt (a plain job's default). */
    public NewJob(String url, String host, String method, String headersJson, byte[] body, int priority, Instant runAt,
            long delayMs, int maxAttempts, int timeoutMs, int maxBodyBytes, boolean storeBody, boolean followRedirects,
            List<String> extract, boolean conditional, String idempotencyKey, byte[] requestHash, String metadataJson) {
        this(url, host, method, headersJson, body, priority, runAt, delayMs, maxAttempts, timeoutMs, maxBodyBytes,
                storeBody, followRedirects, extract, conditional, idempotencyKey, requestHash, metadataJson, false);
    }
}
