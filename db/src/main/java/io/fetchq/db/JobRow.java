package io.fetchq.db;

import java.time.OffsetDateTime;

/**
 * One row of the public view {@code fetchq.job_results}, with the job's tenant and request headers
 * (null where a query leaves them out); JSON columns as text.
 */
public record JobRow(
        long jobId,
        Long batchId,
        String url,
        String host,
        String method,
        String state,
        int priority,
        int attempts,
        int maxAttempts,
        String metadata,
        Integer statusCode,
        String contentType,
        Long bodyBytes,
        Boolean bodyTruncated,
        String bodySha256,
        String title,
        String links,
        String finalUrl,
        String errorKind,
        String errorMessage,
        OffsetDateTime createdAt,
        OffsetDateTime nextAttemptAt,
        OffsetDateTime startedAt,
        OffsetDateTime finishedAt,
        Integer totalMs,
        String tenant,
        String headers) {
}
