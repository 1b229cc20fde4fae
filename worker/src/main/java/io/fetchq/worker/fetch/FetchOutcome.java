package io.fetchq.worker.fetch;

import java.time.Instant;
import java.util.List;

/** What one attempt to fetch a URL ended as. */
public sealed interface FetchOutcome {

    Timings timings();

    List<Redirect> redirects();

    /** One hop of a followed redirect chain. */
    record Redirect(String url, int status) {
    }

    /**
     * An HTTP response (any status). The body is the decoded bytes read, at most the job's cap.
     *
     * @param retryAfterMs the {@code Retry-After} the server asked for, or null
     * @param memory the body's bytes in the worker's {@link BodyBudget}: whoever holds the body last
     *     releases it
     * @param etag the {@code ETag}, when it could be sent back in a request header; else null
     * @param lastModified the {@code Last-Modified}, when it is an HTTP date; else null
     * @param robotsTag the {@code X-Robots-Tag} headers, one per line; else null
     */
    record Response(int status, String contentType, byte[] body, boolean truncated, String finalUrl,
            Long retryAfterMs, List<Redirect> redirects, Timings timings, BodyBudget.Reservation memory,
            String etag, Instant lastModified, String robotsTag) implements FetchOutcome {

        public Response(int status, String contentType, byte[] body, boolean truncated, String finalUrl,
                Long retryAfterMs, List<Redirect> redirects, Timings timings, BodyBudget.Reservation memory,
                String etag, Instant lastModified) {
            this(status, contentType, body, truncated, finalUrl, retryAfterMs, redirects, timings, memory, etag,
                    lastModified, null);
        }
    }

    /** No usable response: the kind and a short message. */
    record Failure(ErrorKind kind, String message, List<Redirect> redirects, Timings timings) implements FetchOutcome {
    }
}
