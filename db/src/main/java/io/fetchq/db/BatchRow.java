package io.fetchq.db;

import java.time.OffsetDateTime;

/**
 * One row of the public view {@code fetchq.batch_progress}, {@code batch_id} as {@code id}; also the
 * REST representation of a batch. {@code scheduleId} and {@code nominalTime}: the schedule's run it
 * is, null for a batch submitted as one.
 */
public record BatchRow(
        long id,
        int total,
        long queued,
        long running,
        long completed,
        long failed,
        long cancelled,
        boolean done,
        OffsetDateTime createdAt,
        OffsetDateTime finishedAt,
        String tenant,
        Long scheduleId,
        OffsetDateTime nominalTime) {
}
