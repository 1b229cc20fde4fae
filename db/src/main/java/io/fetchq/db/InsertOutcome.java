package io.fetchq.db;

/** How inserting one job with an optional idempotency key went. */
public sealed interface InsertOutcome {

    long jobId();

    /** A new job was committed. */
    record Created(long jobId) implements InsertOutcome {
    }

    /** The key was used before by the same request: this is that job. */
    record Existing(long jobId) implements InsertOutcome {
    }

    /** The key was used before by a different request. */
    record KeyConflict(long jobId) implements InsertOutcome {
    }
}
