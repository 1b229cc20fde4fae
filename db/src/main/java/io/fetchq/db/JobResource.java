package io.fetchq.db;

import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.OffsetDateTime;
import java.util.Map;

/**
 * A job as the REST API shows it, and as webhook events carry it. Field names are a contract;
 * fields may be added.
 *
 * @param headers the request headers as shown: secret values already replaced
 * @param result the outcome of the final (or latest) attempt; null until there is one
 * @param crawlId the crawl it is a page of, with its {@code depth} and the {@code parentJobId} whose
 *     link enqueued it; null for other jobs
 */
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
        JobResult result,
        Long crawlId,
        Integer depth,
        Long parentJobId) {

    /** The job as shown, with {@code shownHeaders} (its headers, secret values replaced) for its headers. */
    public static JobResource of(JobRow row, Map<String, String> shownHeaders) {
        return new JobResource(row.jobId(), row.batchId(), row.tenant(), row.url(), row.host(), row.method(),
                shownHeaders, row.state().code(), row.priority(), row.attempts(), row.maxAttempts(), row.nextAttemptAt(),
                row.createdAt(), row.startedAt(), row.finishedAt(), row.metadata(),
                row.result().present() ? row.result() : null, row.crawlId(), row.depth(), row.parentJobId());
    }
}
