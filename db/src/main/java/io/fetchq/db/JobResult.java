package io.fetchq.db;

import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.OffsetDateTime;

/**
 * The outcome of a job's final (or latest) attempt, as {@code fetchq.job_results} shows it: read in
 * {@link JobRow}, and the {@code result} of a job in the REST API. Field names are a contract.
 *
 * @param links the extracted links, a JSON array
 * @param etag the response's {@code ETag}
 * @param lastModified the response's {@code Last-Modified}
 * @param notModified whether the response was a {@code 304} (completed jobs only)
 * @param changed whether the body differs from the URL's previous {@code 200} in the tenant:
 *     false when equal or a 304, null when there was none to compare with
 */
public record JobResult(
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
        Integer totalMs,
        String etag,
        OffsetDateTime lastModified,
        Boolean notModified,
        Boolean changed) {

    /** Whether an attempt has ended yet: a response, or an error. */
    public boolean present() {
        return statusCode != null || errorKind != null;
    }
}
