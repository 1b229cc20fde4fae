package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.Claim;
import io.fetchq.db.ClaimedJob;
import io.fetchq.db.testing.ChaosServer;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.fetch.FetchCancellation;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.HttpFetcher;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fetcher on its own: what a capped read of a huge body costs, and its read timeout. */
class HttpFetcherTest {

    private ChaosServer server;
    private HttpFetcher fetcher;

    @BeforeEach
    void start() throws Exception {
        server = new ChaosServer();
        var fetch = WorkerTestBase.fetchSettings();
        fetcher = new HttpFetcher(new UrlPolicy(false, fetch.allowedNetworks()), fetch, 4, WorkerTestBase.TEST_DNS);
    }

    @AfterEach
    void stop() throws Exception {
        fetcher.close();
        server.close();
    }

    private ClaimedJob job(String url, int cap) {
        return new ClaimedJob(new Claim(1, UUID.randomUUID(), 1), 1, 1, url, "127.0.0.1", "GET", null, null, 30_000, cap, true,
                true, List.of(), null, false, null);
    }

    @Test
    void aHugeBodyIsReadOnlyUpToTheCap() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        FetchOutcome outcome = fetcher.fetch(job(server.url("/big/200000000"), 1_000_000), new FetchCancellation());
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(outcome).isInstanceOf(FetchOutcome.Response.class);
        FetchOutcome.Response response = (FetchOutcome.Response) outcome;
        assertThat(response.truncated()).isTrue();
        assertThat(response.body()).hasSize(1_000_000);
        // 200 MB offered; the fetch allocates a few times the 1 MB it keeps, not the body.
        assertThat(allocated).isLessThan(20_000_000L);
    }

    @Test
    void silenceLongerThanTheReadTimeoutEndsTheAttempt() {
        var fetch = WorkerTestBase.fetchSettings("read-timeout", "300ms");
        try (HttpFetcher quick = new HttpFetcher(new UrlPolicy(false, fetch.allowedNetworks()), fetch, 4,
                WorkerTestBase.TEST_DNS)) {
            // Headers, then nothing for 5 s; and no answer at all. The attempt's own timeout is 30 s.
            for (String path : List.of("/drip/3/5000", "/hang/silent")) {
                FetchOutcome outcome = quick.fetch(job(server.url(path), 1000), new FetchCancellation());
                assertThat(outcome).as(path).isInstanceOf(FetchOutcome.Failure.class);
                FetchOutcome.Failure failure = (FetchOutcome.Failure) outcome;
                assertThat(failure.kind()).as(path).isEqualTo(io.fetchq.worker.fetch.ErrorKind.TIMEOUT);
                assertThat(failure.message()).as(path).isEqualTo("read timed out: nothing received for 300 ms");
            }
        }
    }

    @Test
    void aSlowButSteadyBodyIsNotSilence() {
        var fetch = WorkerTestBase.fetchSettings("read-timeout", "300ms");
        try (HttpFetcher quick = new HttpFetcher(new UrlPolicy(false, fetch.allowedNetworks()), fetch, 4,
                WorkerTestBase.TEST_DNS)) {
            // A byte every 100 ms for 1.2 s: four read timeouts in all, never 300 ms without data.
            FetchOutcome outcome = quick.fetch(job(server.url("/drip/12/100"), 1000), new FetchCancellation());
            assertThat(outcome).isInstanceOf(FetchOutcome.Response.class);
            assertThat(((FetchOutcome.Response) outcome).body()).hasSize(12);
        }
    }

    @Test
    void retryAfterIsReadAsSecondsOrDate() {
        FetchOutcome outcome = fetcher.fetch(job(server.url("/retry-after/ra/7"), 1000), new FetchCancellation());
        assertThat(((FetchOutcome.Response) outcome).retryAfterMs()).isEqualTo(7000L);
        FetchOutcome dated = fetcher.fetch(job(server.url("/retry-date/rd/30"), 1000), new FetchCancellation());
        assertThat(((FetchOutcome.Response) dated).retryAfterMs()).isBetween(28_000L, 30_000L);
    }

    @Test
    void aRetryAfterDateIsReadAgainstTheFetchersClock() {
        Clock clock = Clock.fixed(Instant.parse("2015-10-21T07:26:30Z"), ZoneOffset.UTC);
        assertThat(HttpFetcher.retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", clock)).isEqualTo(90_000L);
        assertThat(HttpFetcher.retryAfterMs("Wed, 21 Oct 2015 07:00:00 GMT", clock)).as("past: at once").isZero();
        assertThat(HttpFetcher.retryAfterMs("soon", clock)).isNull();
    }
}
