package io.fetchq.worker;

import io.fetchq.db.testing.ChaosServer;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** One test per way an attempt can end, against the chaos server. */
class WorkerOutcomesTest extends WorkerTestBase {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void okPageCompletesWithTitleLinksBodyAndTimings() {
        startWorker(settings());
        long id = aJob(server.url("/page/one")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);

        assertState(job, "completed");
        assertThat(job.get("status_code")).isEqualTo(200);
        assertThat(job.get("title")).isEqualTo("Page one");
        assertThat(job.get("links").toString()).contains("/page/a").contains("https://example.org/x")
                .doesNotContain("#frag").doesNotContain("mailto");
        assertThat(job.get("body_sha256").toString()).hasSize(64);
        assertThat(job.get("attempts")).isEqualTo(1);
        assertThat((String) sql.sql("SELECT convert_from(body, 'UTF8') FROM fetchq.job_bodies WHERE job_id = :id")
                .param("id", id).query(String.class).single()).contains("<title>Page one</title>");
        Map<String, Object> attempt = attempts(id).getFirst();
        assertThat(attempt.get("status_code")).isEqualTo(200);
        assertThat(attempt.get("total_ms")).isNotNull();
        assertThat(attempt.get("ttfb_ms")).isNotNull();
        assertThat(attempt.get("remote_ip").toString()).isEqualTo("127.0.0.1");
        assertThat(attempt.get("worker_id")).isNotNull();
    }

    @Test
    void notFoundCompletesWithoutRetry() {
        startWorker(settings());
        long id = aJob(server.url("/status/404")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        assertThat(job.get("status_code")).isEqualTo(404);
        assertThat(server.hits("/status/404")).isEqualTo(1);
    }

    @Test
    void serviceUnavailableTwiceThenOkCompletesOnTheThirdAttempt() {
        startWorker(settings());
        long id = aJob(server.url("/flaky/a/2")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        assertThat(job.get("status_code")).isEqualTo(200);
        assertThat(job.get("attempts")).isEqualTo(3);
        List<Map<String, Object>> attempts = attempts(id);
        assertThat(attempts).extracting(a -> a.get("status_code")).containsExactly(503, 503, 200);
        assertThat(attempts).extracting(a -> a.get("error_kind")).containsExactly("http_status", "http_status", null);
        assertThat(server.hits("/flaky/a/2")).isEqualTo(3);
    }

    @Test
    void alwaysUnavailableFailsWithHttpStatusAfterEveryAttempt() {
        startWorker(settings());
        long id = aJob(server.url("/status/503")).maxAttempts(3).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("http_status");
        assertThat(job.get("status_code")).isEqualTo(503);
        assertThat(job.get("attempts")).isEqualTo(3);
        assertThat(attempts(id)).hasSize(3);
        assertThat(server.hits("/status/503")).isEqualTo(3);
    }

    @Test
    void retryAfterInSecondsIsWaitedForAndPausesTheHost() {
        startWorker(settings("in-process-retry", "5s"));
        long id = aJob(server.url("pause.test", "/retry-after/k/2")).submit();
        await("the 429", WAIT, () -> server.hits("/retry-after/k/2") == 1);
        long other = aJob(server.url("pause.test", "/page/other")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        List<Map<String, Object>> attempts = attempts(id);
        assertThat(attempts).hasSize(2);
        Instant asked = time(attempts.get(0).get("finished_at"));
        assertThat(Duration.between(asked, time(attempts.get(1).get("started_at"))))
                .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
        // Another job of the same host waited for the pause too.
        awaitFinal(other, WAIT);
        assertThat(Duration.between(asked, time(attempts(other).getFirst().get("started_at"))))
                .isGreaterThanOrEqualTo(Duration.ofMillis(1800));
    }

    private static Instant time(Object timestamp) {
        return ((Timestamp) timestamp).toInstant();
    }

    @Test
    void retryAfterAsAnHttpDateGoesBackToTheQueueWhenLong() {
        startWorker(settings("in-process-retry", "1s"));
        long id = aJob(server.url("/retry-date/d/3")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        List<Map<String, Object>> attempts = attempts(id);
        assertThat(attempts).hasSize(2);
        // HTTP dates have whole seconds: at least 2 s of the 3 asked for remain.
        assertThat(Duration.between(time(attempts.get(0).get("finished_at")), time(attempts.get(1).get("started_at"))))
                .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }

    @Test
    void hangingServerTimesOut() {
        startWorker(settings());
        long id = aJob(server.url("/hang")).timeoutMs(500).maxAttempts(1).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("timeout");
    }

    @Test
    void connectionResetIsReset() {
        startWorker(settings());
        long id = aJob(server.url("/reset")).maxAttempts(2).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("reset");
        assertThat(server.hits("/reset")).isEqualTo(2);
    }

    @Test
    void refusedPortIsConnect() throws Exception {
        int closedPort;
        try (var socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        startWorker(settings());
        long id = aJob("http://127.0.0.1:" + closedPort + "/").maxAttempts(1).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("connect");
    }

    @Test
    void unresolvableHostIsDns() {
        startWorker(settings());
        long id = aJob("http://nowhere.invalid/").maxAttempts(1).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("dns");
    }

    @Test
    void bodyOverTheCapIsTruncatedNotFailed() {
        startWorker(settings());
        long id = aJob(server.url("/big/5000000")).maxBodyBytes(100_000).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        assertThat(job.get("body_truncated")).isEqualTo(true);
        assertThat(job.get("body_bytes")).isEqualTo(100_000L);
        assertThat(sql.sql("SELECT length(body) FROM fetchq.job_bodies WHERE job_id = :id").param("id", id)
                .query(Integer.class).single()).isEqualTo(100_000);
    }

    @Test
    void gzipBodyIsDecoded() {
        startWorker(settings());
        long id = aJob(server.url("/gzip")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        assertThat(job.get("title")).isEqualTo("Page zipped");
    }

    @Test
    void deflateBodyIsDecoded() {
        startWorker(settings());
        long id = aJob(server.url("/deflate")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        assertThat(job.get("title")).isEqualTo("Page deflated");
    }

    @Test
    void redirectsAreFollowedAndRecorded() {
        startWorker(settings());
        long id = aJob(server.url("/redirect/3")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        assertThat(job.get("final_url")).isEqualTo(server.url("/redirect/0"));
        assertThat(job.get("title")).isEqualTo("Page landed");
        assertThat(attempts(id).getFirst().get("redirects").toString())
                .contains("/redirect/3").contains("/redirect/2").contains("/redirect/1").contains("302");
    }

    @Test
    void redirectLoopFailsWithTooManyRedirects() {
        startWorker(settings());
        long id = aJob(server.url("/loop")).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("too_many_redirects");
        assertThat(server.hits("/loop")).isEqualTo(11); // the first request and 10 hops, once: not retried
    }

    @Test
    void redirectToABlockedAddressIsBlockedAndNotRetried() {
        startWorker(settings());
        String target = URLEncoder.encode("http://169.254.169.254/latest/meta-data/", StandardCharsets.UTF_8);
        long id = aJob(server.url("/to?u=" + target)).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("blocked");
        assertThat(job.get("error_message").toString()).contains("169.254.169.254");
        assertThat(server.hits("/to")).isEqualTo(1);
    }

    @Test
    void hostNameResolvingToABlockedAddressIsBlockedAtConnect() {
        // Only loopback is allowed here; a name resolving to it is fine, one resolving to 10/8 is not.
        startWorker(settings(), fetchSettings("allowed-networks", "127.0.0.2/32"));
        long id = aJob(server.url("loopback.test", "/page/x")).maxAttempts(1).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("blocked");
        assertThat(server.hits("/page/x")).isZero();
    }

    @Test
    void dnsRebindingAfterAnAllowedAttemptIsBlockedAtTheNextConnect() {
        // The name passed at submit (it is no address) and at the first connect (loopback, allowed
        // here); then it rebinds to 10.0.0.7. The retry resolves again, and is refused before any
        // byte is sent: what is checked is what is dialled.
        startWorker(settings());
        long id = aJob(server.url("flip.rebind.test", "/status/503")).maxAttempts(3).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("blocked");
        assertThat(job.get("error_message").toString()).contains("10.0.0.7");
        assertThat(attempts(id)).extracting(a -> a.get("error_kind")).containsExactly("http_status", "blocked");
        assertThat(server.hits("/status/503")).isEqualTo(1);
        assertThat(REBIND_LOOKUPS.get("flip.rebind.test").get()).as("resolved again after the first attempt")
                .isGreaterThanOrEqualTo(2);
    }

    @Test
    void openBreakerReschedulesInsteadOfFailing() {
        // A short lease: a heartbeat every 300 ms reports the hosts whose breaker is open.
        startWorker(settings("breaker-minimum-calls", "2", "breaker-window", "2", "breaker-open-for", "2s",
                "per-host", "1", "lease", "900ms"));
        long a = aJob(server.url("sick.test", "/reset/a")).maxAttempts(1).submit();
        long b = aJob(server.url("sick.test", "/reset/b")).maxAttempts(1).submit();
        awaitFinal(a, WAIT);
        awaitFinal(b, WAIT);
        Instant opened = time(attempts(b).getFirst().get("finished_at"));
        String reported = "SELECT coalesce(bool_or('sick.test' = ANY (open_hosts)), false) FROM fetchq.worker";
        Awaitility.await("the heartbeat reports the open breaker").atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> sql.sql(reported).query(Boolean.class).single());
        long c = aJob(server.url("sick.test", "/page/after")).maxAttempts(1).submit();
        // While the breaker is open the job waits in the queue, not failed, and no request is made;
        // once it lets a trial call through, the job runs.
        Map<String, Object> job = awaitFinal(c, WAIT);
        assertState(job, "completed");
        assertThat(job.get("attempts")).isEqualTo(1);
        assertThat(server.hits("/page/after")).isEqualTo(1);
        assertThat(Duration.between(opened, time(attempts(c).getFirst().get("started_at"))))
                .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
        // Closed again by the trial's success: no longer reported.
        Awaitility.await("the heartbeat reports the breaker closed").atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> !sql.sql(reported).query(Boolean.class).single());
    }

    @Test
    void requestIsSentAsSubmitted() {
        startWorker(settings());
        long id = aJob(server.url("/echo")).post("{\"a\": 1}")
                .headers("{\"X-Test\": \"yes\", \"Content-Type\": \"application/json\"}").submit();
        awaitFinal(id, WAIT);
        String echoed = sql.sql("SELECT convert_from(body, 'UTF8') FROM fetchq.job_bodies WHERE job_id = :id")
                .param("id", id).query(String.class).single();
        assertThat(echoed).startsWith("POST /echo HTTP/1.1").contains("X-Test: yes")
                .containsIgnoringCase("content-type: application/json").contains("User-Agent: fetchq/")
                .endsWith("{\"a\": 1}");
    }

    @Test
    void aRedirectToAnotherOriginLeavesSecretHeadersBehind() throws java.io.IOException {
        startWorker(settings());
        String headers = "{\"Authorization\": \"Bearer a1\", \"X-Api-Key\": \"k1\", \"X-Session-Token\": \"t1\", "
                + "\"Cookie\": \"c=1\", \"X-Trace\": \"kept\"}";
        String echo = URLEncoder.encode(server.url("a.test", "/echo"), StandardCharsets.UTF_8);
        String elsewhere = URLEncoder.encode(server.url("b.test", "/echo"), StandardCharsets.UTF_8);
        long same = aJob(server.url("a.test", "/to?u=" + echo)).headers(headers).submit();
        long other = aJob(server.url("a.test", "/to?u=" + elsewhere)).headers(headers).submit();
        awaitFinal(same, WAIT);
        awaitFinal(other, WAIT);
        String sameOrigin = sql.sql("SELECT convert_from(body, 'UTF8') FROM fetchq.job_bodies WHERE job_id = :id")
                .param("id", same).query(String.class).single();
        String otherOrigin = sql.sql("SELECT convert_from(body, 'UTF8') FROM fetchq.job_bodies WHERE job_id = :id")
                .param("id", other).query(String.class).single();
        assertThat(sameOrigin).contains("Bearer a1", "X-Api-Key: k1", "X-Session-Token: t1", "c=1", "X-Trace: kept");
        assertThat(otherOrigin).startsWith("GET /echo").contains("Host: b.test", "X-Trace: kept")
                .doesNotContain("a1", "k1", "t1", "c=1");

        // The same host on another port is another origin too.
        try (ChaosServer otherPort = new ChaosServer()) {
            String there = URLEncoder.encode(otherPort.url("a.test", "/echo"), StandardCharsets.UTF_8);
            long moved = aJob(server.url("a.test", "/to?u=" + there)).headers(headers).submit();
            awaitFinal(moved, WAIT);
            assertThat(sql.sql("SELECT convert_from(body, 'UTF8') FROM fetchq.job_bodies WHERE job_id = :id")
                    .param("id", moved).query(String.class).single())
                    .contains("Host: a.test:" + otherPort.port(), "X-Trace: kept").doesNotContain("a1", "k1", "t1", "c=1");
        }
    }

    @Test
    void rateLimitedHostIsPaced() {
        startWorker(settings("host-rate", "5"));
        List<io.fetchq.db.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 15; i++) {
            batch.add(aJob(server.url("paced.test", "/page/" + i)).build());
        }
        long batchId = jobs.insertBatch(batch).id();
        await("batch done", WAIT, () -> sql.sql("SELECT done FROM fetchq.batch_progress WHERE batch_id = :id")
                .param("id", batchId).query(Boolean.class).single());
        // 15 requests at 5 per second span at least two refresh periods.
        Map<String, Object> span = sql.sql("""
                SELECT min(a.started_at) AS first, max(a.started_at) AS last
                FROM fetchq.attempts a JOIN fetchq.job_results r USING (job_id) WHERE r.batch_id = :id""")
                .param("id", batchId).query().singleRow();
        assertThat(Duration.between(time(span.get("first")), time(span.get("last"))))
                .isGreaterThanOrEqualTo(Duration.ofMillis(900));
    }
}
