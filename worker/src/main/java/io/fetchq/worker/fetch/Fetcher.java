package io.fetchq.worker.fetch;

import io.fetchq.db.ClaimedJob;
import io.fetchq.url.UrlPolicy;

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

    /** As {@link #fetch(ClaimedJob, FetchCancellation)}, following at most {@code maxRedirects} redirects. */
    default FetchOutcome fetch(ClaimedJob job, FetchCancellation cancellation, int maxRedirects) {
        return fetch(job, cancellation);
    }

    /** The URL policy every request is judged by. */
    default UrlPolicy policy() {
        return new UrlPolicy(false);
    }

    /** The {@code User-Agent} sent unless a job sets its own: robots.txt groups are matched by its product token. */
    default String userAgent() {
        return "fetchq";
    }

    @Override
    void close();
}
