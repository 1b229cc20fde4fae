package io.fetchq.worker;

import io.fetchq.db.testing.ChaosServer;
import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.ClaimedJob;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.fetch.FetchCancellation;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.HttpFetcher;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fetcher on its own: what a capped read of a huge body costs. */
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
        return new ClaimedJob(1, UUID.randomUUID(), 1, 1, 1, url, "127.0.0.1", "GET", null, null, 30_000, cap, true,
                true, List.of());
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
    void retryAfterIsReadAsSecondsOrDate() {
        FetchOutcome outcome = fetcher.fetch(job(server.url("/retry-after/ra/7"), 1000), new FetchCancellation());
        assertThat(((FetchOutcome.Response) outcome).retryAfterMs()).isEqualTo(7000L);
        FetchOutcome dated = fetcher.fetch(job(server.url("/retry-date/rd/30"), 1000), new FetchCancellation());
        assertThat(((FetchOutcome.Response) dated).retryAfterMs()).isBetween(28_000L, 30_000L);
    }
}
