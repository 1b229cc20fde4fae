package io.fetchq.db;

import java.util.UUID;

/**
 * A worker's claim on a job: what fences every write after it. A write changes anything only while
 * the job is still running under this lease token at this attempt.
 *
 * @param attempt absolute number of the attempt this claim makes (numbering of {@code fetchq.attempts})
 */
public record Claim(long jobId, UUID leaseToken, int attempt) {

    /** The same claim, making its next attempt. */
    public Claim next() {
        return new Claim(jobId, leaseToken, attempt + 1);
    }
}
