package io.fetchq.worker.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.ClaimedJob;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A conditional GET's request headers, and which ETags are kept to be sent back. */
class ValidatorsTest {

    private static Map<String, String> headersFor(ClaimedJob.Validators validators, String... own) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 0; i < own.length; i += 2) {
            headers.put(own[i], own[i + 1]);
        }
        HttpFetcher.addValidators(headers, validators);
        return headers;
    }

    @Test
    void theEtagIsPreferredAndTheDateIsSentAsAnImfFixdate() {
        Instant modified = Instant.parse("2026-03-05T07:08:09Z");
        assertThat(headersFor(new ClaimedJob.Validators("W/\"x\"", modified)))
                .containsExactly(Map.entry("If-None-Match", "W/\"x\""));
        assertThat(headersFor(new ClaimedJob.Validators(null, modified)))
                .containsExactly(Map.entry("If-Modified-Since", "Thu, 05 Mar 2026 07:08:09 GMT"));
        assertThat(headersFor(null)).isEmpty();
    }

    @Test
    void aJobsOwnValidatorIsLeftAsItIs() {
        assertThat(headersFor(new ClaimedJob.Validators("\"x\"", null), "if-modified-since", "Mon, 02 Mar 2026 00:00:00 GMT"))
                .containsExactly(Map.entry("if-modified-since", "Mon, 02 Mar 2026 00:00:00 GMT"));
    }

    @Test
    void lastModifiedIsReadAsAnHttpDate() {
        assertThat(HttpFetcher.httpDate("Thu, 05 Mar 2026 07:08:09 GMT")).isEqualTo(Instant.parse("2026-03-05T07:08:09Z"));
        assertThat(HttpFetcher.httpDate("Thu, 5 Mar 2026 07:08:09 GMT")).isEqualTo(Instant.parse("2026-03-05T07:08:09Z"));
        assertThat(HttpFetcher.httpDate("yesterday")).isNull();
        assertThat(HttpFetcher.httpDate(null)).isNull();
    }

    @Test
    void onlyEtagsARequestHeaderCanCarryAreKept() {
        assertThat(HttpFetcher.etag("\"33a64df5\"")).isEqualTo("\"33a64df5\"");
        assertThat(HttpFetcher.etag("W/\"a b\"")).isEqualTo("W/\"a b\"");
        assertThat(HttpFetcher.etag("\"caf\u00e9\"")).isNull();
        assertThat(HttpFetcher.etag("\"a\tb\"")).isNull();
        assertThat(HttpFetcher.etag("")).isNull();
        assertThat(HttpFetcher.etag("\"" + "x".repeat(HttpFetcher.MAX_ETAG_LENGTH) + "\"")).isNull();
    }
}
