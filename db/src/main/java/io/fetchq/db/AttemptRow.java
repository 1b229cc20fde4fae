package io.fetchq.db;

import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.OffsetDateTime;

/** One row of the public view {@code fetchq.attempts}; also the REST representation of an attempt. */
public record AttemptRow(
        long jobId,
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
}
