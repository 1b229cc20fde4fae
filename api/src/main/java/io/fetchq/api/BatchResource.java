package io.fetchq.api;

import io.fetchq.db.BatchRow;
import java.time.OffsetDateTime;

/** A batch as the REST API shows it: counts of its jobs by state. */
public record BatchResource(
        long id,
        int total,
        long queued,
        long running,
        long completed,
        long failed,
        long cancelled,
        boolean done,
        OffsetDateTime createdAt,
        OffsetDateTime finishedAt) {

    static BatchResource of(BatchRow row) {
        return new BatchResource(row.batchId(), row.total(), row.queued(), row.running(), row.completed(),
                row.failed(), row.cancelled(), row.done(), row.createdAt(), row.finishedAt());
    }
}
