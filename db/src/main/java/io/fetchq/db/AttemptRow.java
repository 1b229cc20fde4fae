package io.fetchq.db;

import java.time.OffsetDateTime;

/** One row of the public view {@code fetchq.attempts}; {@code redirects} is JSON text. */
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
        String redirects) {
}
