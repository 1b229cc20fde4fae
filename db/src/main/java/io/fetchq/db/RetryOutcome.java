package io.fetchq.db;

/** How a request to retry a job went. */
public enum RetryOutcome {
    /** The job is queued again with a fresh attempt budget. */
    RETRIED,
    /** No such job. */
    NOT_FOUND,
    /** The job is not failed or cancelled. */
    NOT_RETRYABLE
}
