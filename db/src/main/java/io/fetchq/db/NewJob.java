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
        String metadataJson) {
}
