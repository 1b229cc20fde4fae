package io.fetchq.db;

import java.time.OffsetDateTime;

/** One row of the public view {@code fetchq.batch_progress}. */
public record BatchRow(
        long batchId,
        int total,
        long queued,
        long running,
        long completed,
        long failed,
        long cancelled,
        boolean done,
        OffsetDateTime createdAt,
        OffsetDateTime finishedAt) {
}
