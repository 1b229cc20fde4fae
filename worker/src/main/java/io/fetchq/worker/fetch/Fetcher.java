package io.fetchq.worker.fetch;

import io.fetchq.db.ClaimedJob;

/**
 * Makes one attempt at a claimed job. {@link HttpFetcher} is the real one; the benchmark harness
 * plugs in one that does no network, to measure everything else a worker does.
 */
public interface Fetcher extends AutoCloseable {

    /**
     * Never throws for what the remote does: every such outcome is a {@link FetchOutcome}. Once
     * {@code cancellation} is cancelled the fetch ends soon as a {@link ErrorKind#CANCELLED} failure.
     */
    FetchOutcome fetch(ClaimedJob job, FetchCancellation cancellation);

    @Override
    void close();
}
