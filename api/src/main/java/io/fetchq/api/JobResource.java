package io.fetchq.api;

import com.fasterxml.jackson.annotation.JsonRawValue;
import io.fetchq.api.security.HeaderRedaction;
import io.fetchq.db.JobResult;
import io.fetchq.db.JobRow;
import io.swagger.v3.oas.annotations.media.Schema;
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
        @Schema(description = "the outcome of the final (or latest) attempt; null until there is one") JobResult result) {

    /** The job as shown: secret header values replaced by {@value HeaderRedaction#REDACTED}. */
    static JobResource of(JobRow row, HeaderRedaction secrets) {
        return new JobResource(row.jobId(), row.batchId(), row.tenant(), row.url(), row.host(), row.method(),
                secrets.redact(row.headers()), row.state().code(),
                row.priority(), row.attempts(), row.maxAttempts(), row.nextAttemptAt(), row.createdAt(),
                row.startedAt(), row.finishedAt(), row.metadata(), row.result().present() ? row.result() : null);
    }
}
