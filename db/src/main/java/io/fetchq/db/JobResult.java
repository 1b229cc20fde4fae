package io.fetchq.db;

import com.fasterxml.jackson.annotation.JsonRawValue;

/**
 * The outcome of a job's final (or latest) attempt, as {@code fetchq.job_results} shows it: read in
 * {@link JobRow}, and the {@code result} of a job in the REST API. Field names are a contract.
 *
 * @param links the extracted links, a JSON array
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
        Integer totalMs) {

    /** Whether an attempt has ended yet: a response, or an error. */
    public boolean present() {
        return statusCode != null || errorKind != null;
    }
}
