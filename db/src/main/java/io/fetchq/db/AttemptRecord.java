package io.fetchq.db;

import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.Instant;

/**
 * How one attempt went, as a row of {@code fetchq.attempts} records it: written by both completion
 * statements of {@link QueueQueries}, read back in {@link AttemptRow}.
 *
 * @param redirects the chain of redirects followed, a JSON array ({@code [{"url":..,"status":..}]})
 */
public record AttemptRecord(
        Instant startedAt,
        Instant finishedAt,
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

    /** PostgreSQL text and jsonb refuse NUL, which remote servers can put in anything they send. */
    public AttemptRecord {
        errorKind = Text.clean(errorKind);
        errorMessage = Text.clean(errorMessage);
        remoteIp = Text.clean(remoteIp);
        redirects = Text.cleanJson(redirects);
    }

    /** This attempt without any text taken from the remote: what is left to store when the rest cannot be. */
    AttemptRecord withoutRemoteText() {
        return new AttemptRecord(startedAt, finishedAt, statusCode, errorKind,
                errorMessage == null ? null : "result could not be stored", dnsMs, connectMs, tlsMs, ttfbMs, totalMs,
                null, null);
    }
}
