package io.fetchq.api;

import com.fasterxml.jackson.annotation.JsonRawValue;
import io.fetchq.api.security.HeaderRedaction;
import io.fetchq.db.JobRow;
import java.time.OffsetDateTime;
import java.util.Map;

/** A job as the REST API shows it. Field names are a contract; fields may be added. */
public record JobResource(
        long id,
        Long batchId,
        String tenant,
        String url,
        String host,
        String method,
        Map<String, String> headers,
        String state,
        int priority,
        int attempts,
        int maxAttempts,
        OffsetDateTime nextAttemptAt,
        OffsetDateTime createdAt,
        OffsetDateTime startedAt,
        OffsetDateTime finishedAt,
        @JsonRawValue String metadata,
        Result result) {

    /** The outcome of the final (or latest) attempt; null until there is one. */
    public record Result(
            Integer statusCode,
            String contentType,
            Long bodyBytes,
            Boolean bodyTruncated,
            String bodySha256,
            String title,
            @JsonRawValue String links,
            String finalUrl,
            String errorKind,
            String errorMessage,
            Integer totalMs) {
    }

    /** The job as shown: secret header values replaced by {@value HeaderRedaction#REDACTED}. */
    static JobResource of(JobRow row, HeaderRedaction secrets) {
        Result result = row.statusCode() == null && row.errorKind() == null ? null : new Result(
                row.statusCode(), row.contentType(), row.bodyBytes(), row.bodyTruncated(), row.bodySha256(),
                row.title(), row.links(), row.finalUrl(), row.errorKind(), row.errorMessage(), row.totalMs());
        return new JobResource(row.jobId(), row.batchId(), row.tenant(), row.url(), row.host(), row.method(),
                secrets.redact(row.headers()), row.state(),
                row.priority(), row.attempts(), row.maxAttempts(), row.nextAttemptAt(), row.createdAt(),
                row.startedAt(), row.finishedAt(), row.metadata(), result);
    }
}
