package io.fetchq.worker.attempt;

import io.fetchq.db.AttemptRecord;
import io.fetchq.db.ClaimedJob;
import io.fetchq.db.Completion;
import io.fetchq.db.CrawlLink;
import io.fetchq.db.Payload;
import io.fetchq.worker.fetch.ErrorKind;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.Json;
import io.fetchq.worker.fetch.Timings;
import io.fetchq.worker.process.Processor;
import io.fetchq.worker.retry.RetryPolicy;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/** How an attempt's outcome becomes the {@link Completion} the completer writes. */
final class Endings {

    private static final Timings NO_TIMINGS = new Timings(null, null, null, null, 0, null);

    private final Clock clock;

    Endings(Clock clock) {
        this.clock = clock;
    }

    Instant now() {
        return clock.instant();
    }

    /** A final decision: the job completed or failed with this outcome. */
    Completion ended(ClaimedJob job, FetchOutcome outcome, RetryPolicy.Decision.Final decision,
            Processor.Processed processed, Instant startedAt, List<CrawlLink> crawlLinks) {
        AttemptRecord attempt = record(outcome, decision.errorKind(), decision.errorMessage(), startedAt, now());
        boolean completed = "completed".equals(decision.state());
        Payload payload = payload(outcome, processed, completed && job.storeBody(), crawlLinks);
        return completed ? new Completion.Completed(job.claim(), attempt, payload)
                : new Completion.Failed(job.claim(), attempt, payload);
    }

    /** A retryable outcome: the job is due again after {@code decision.delayMs()}. */
    Completion.RetryAt retry(ClaimedJob job, FetchOutcome outcome, RetryPolicy.Decision.Retry decision,
            Instant startedAt) {
        return new Completion.RetryAt(job.claim(), record(outcome, decision.errorKind(), decision.errorMessage(),
                startedAt, now()), payload(outcome, null, false, List.of()), decision.delayMs());
    }

    /** An attempt that ended in a failure of our own: it counts, and the job is retried after {@code delayMs} or fails. */
    Completion internalError(ClaimedJob job, RuntimeException e, long delayMs) {
        return failure(job, ErrorKind.PROTOCOL, "internal error: " + e, delayMs);
    }

    /**
     * The attempt of a claim whose fetch a shutdown stopped: its request may have reached the host,
     * so it counts, and the job is due again at once (or failed, if that was its last attempt).
     */
    Completion stopped(ClaimedJob job) {
        return failure(job, ErrorKind.CANCELLED, "cancelled: the worker stopped before the response arrived", 0);
    }

    /** The job's URL is one its origin's robots.txt refuses: it fails, no request sent. */
    Completion refusedByRobots(ClaimedJob job, String reason) {
        Instant now = now();
        FetchOutcome refused = new FetchOutcome.Failure(ErrorKind.ROBOTS, reason, List.of(), NO_TIMINGS);
        return new Completion.Failed(job.claim(), record(refused, ErrorKind.ROBOTS, reason, now, now), Payload.NONE);
    }

    /** Gives the claim back without counting the attempt: it never reached the host. */
    Completion.Released release(ClaimedJob job, long delayMs) {
        return new Completion.Released(job.claim(), delayMs);
    }

    private Completion failure(ClaimedJob job, ErrorKind kind, String message, long delayMs) {
        Instant now = now();
        FetchOutcome failure = new FetchOutcome.Failure(kind, message, List.of(), NO_TIMINGS);
        AttemptRecord attempt = record(failure, kind, message, now, now);
        return job.hasAttemptsLeft() ? new Completion.RetryAt(job.claim(), attempt, Payload.NONE, delayMs)
                : new Completion.Failed(job.claim(), attempt, Payload.NONE);
    }

    private static AttemptRecord record(FetchOutcome outcome, ErrorKind errorKind, String errorMessage,
            Instant startedAt, Instant finishedAt) {
        Timings t = outcome.timings();
        return new AttemptRecord(startedAt, finishedAt,
                outcome instanceof FetchOutcome.Response r ? r.status() : null,
                errorKind == null ? null : errorKind.code(), errorMessage, t.dnsMs(), t.connectMs(), t.tlsMs(),
                t.ttfbMs(), t.totalMs(), t.remoteIp(), Json.redirects(outcome.redirects()));
    }

    private static Payload payload(FetchOutcome outcome, Processor.Processed processed, boolean keepBody,
            List<CrawlLink> crawlLinks) {
        if (!(outcome instanceof FetchOutcome.Response r)) {
            return Payload.NONE;
        }
        return new Payload(r.contentType(), (long) r.body().length, r.truncated(), r.finalUrl(),
                processed == null ? null : processed.sha256(), processed == null ? null : processed.title(),
                processed == null ? null : processed.linksJson(), keepBody && processed != null ? r.body() : null,
                r.etag(), r.lastModified(), crawlLinks);
    }
}
