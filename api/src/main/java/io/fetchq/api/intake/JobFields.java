package io.fetchq.api.intake;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/**
 * The fields of one job (or of a batch's {@code defaults}) as submitted, each checked on its own;
 * null where absent. {@link JobResolver} merges them with the defaults into a job.
 */
record JobFields(
        String url,
        String method,
        Map<String, String> headers,
        byte[] body,
        Integer priority,
        Instant runAt,
        Long delayMs,
        Integer maxAttempts,
        Integer timeoutMs,
        Integer maxBodyBytes,
        Boolean storeBody,
        Boolean followRedirects,
        List<String> extract,
        Boolean conditional,
        Boolean robots,
        String idempotencyKey,
        ObjectNode metadata) {

    static final JobFields NONE = new JobFields(
            null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);

    static JobFields url(String url) {
        return new JobFields(url, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null);
    }

    /** The same fields with {@code extract} replaced. */
    JobFields withExtract(List<String> newExtract) {
        return new JobFields(url, method, headers, body, priority, runAt, delayMs, maxAttempts, timeoutMs, maxBodyBytes,
                storeBody, followRedirects, newExtract, conditional, robots, idempotencyKey, metadata);
    }

        boolean schedules() {
        return runAt != null || delayMs != null;
    }
}
