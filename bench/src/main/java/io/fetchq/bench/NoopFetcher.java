package io.fetchq.bench;

import io.fetchq.db.ClaimedJob;
import io.fetchq.worker.fetch.BodyBudget;
import io.fetchq.worker.fetch.FetchCancellation;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.Fetcher;
import io.fetchq.worker.fetch.Timings;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Answers every job with a small 200 at once: the worker's cost without the network. */
final class NoopFetcher implements Fetcher {

    private static final byte[] BODY = "<html><head><title>noop</title></head></html>".getBytes(StandardCharsets.UTF_8);
    private static final BodyBudget.Reservation MEMORY = BodyBudget.unlimited().none();
    private static final Timings TIMINGS = new Timings(null, null, null, 0, 0, "127.0.0.1");

    @Override
    public FetchOutcome fetch(ClaimedJob job, FetchCancellation cancellation) {
        return new FetchOutcome.Response(200, "text/html", BODY, false, job.url(), null, List.of(), TIMINGS, MEMORY, null, null);
    }

    @Override
    public void close() {
    }
}
