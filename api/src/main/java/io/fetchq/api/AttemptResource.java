package io.fetchq.api;

import com.fasterxml.jackson.annotation.JsonRawValue;
import io.fetchq.db.AttemptRow;
import java.time.OffsetDateTime;

/** One attempt at a job, with its timings. */
public record AttemptResource(
        int attempt,
        String workerId,
        OffsetDateTime startedAt,
        OffsetDateTime finishedAt,
        Integer statusCode,
        String errorKind,
        String errorMessage,
        Integer dnsMs,
        Integer connectMs,
        Integer tlsMs,
        Integer ttfbMs,
        Integer totalMs,
        String remoteIp,
        @JsonRawValue String redirects) {

    static AttemptResource of(AttemptRow row) {
        return new AttemptResource(row.attempt(), row.workerId(), row.startedAt(), row.finishedAt(),
                row.statusCode(), row.errorKind(), row.errorMessage(), row.dnsMs(), row.connectMs(), row.tlsMs(),
                row.ttfbMs(), row.totalMs(), row.remoteIp(), row.redirects());
    }
}
