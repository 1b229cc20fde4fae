package io.fetchq.db;

import java.util.List;
import java.util.UUID;

/**
 * A job a worker has claimed: what to fetch, and the claim that fences every later write on it
 * ({@code leaseToken} and {@code attempt} must still match).
 *
 * @param attempt absolute number of the attempt this claim makes (numbering of fetchq.attempt)
 * @param attemptLimit the highest attempt number the current budget allows
 */
public record ClaimedJob(
        long jobId,
        UUID leaseToken,
        int attempt,
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
        List<String> extract) {

    /** Whether another attempt fits in the budget after this one. */
    public boolean hasAttemptsLeft() {
        return attempt < attemptLimit;
    }

    /** 1 for the first attempt of the current budget. */
    public int attemptInBudget() {
        return attempt - (attemptLimit - maxAttempts);
    }

    /** The same claim, making its next attempt. */
    public ClaimedJob nextAttempt() {
        return new ClaimedJob(jobId, leaseToken, attempt + 1, attemptLimit, maxAttempts, url, host, method,
                headersJson, body, timeoutMs, maxBodyBytes, storeBody, followRedirects, extract);
    }
}
