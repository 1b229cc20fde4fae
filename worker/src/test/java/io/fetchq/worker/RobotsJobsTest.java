package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Jobs that obey robots.txt, run by a real worker against a loopback server. */
class RobotsJobsTest extends WorkerTestBase {

    @Test
    void aRefusedJobFailsWithoutARequestAndOthersAreFetched() {
        server.robots("site.test", 200, "User-agent: *\nDisallow: /page/private\n");
        startWorker(settings());

        long refused = aJob(server.url("site.test", "/page/private")).obeyRobots().submit();
        long allowed = aJob(server.url("site.test", "/page/public")).obeyRobots().submit();
        long plain = aJob(server.url("site.test", "/page/private-too")).submit();

        Map<String, Object> row = awaitFinal(refused, Duration.ofSeconds(20));
        assertState(row, "failed");
        assertThat(row.get("error_kind")).isEqualTo("robots");
        assertThat((String) row.get("error_message")).contains("disallowed by").contains("/robots.txt");
        assertThat(server.hits("site.test", "/page/private")).as("no request sent to the page").isZero();
        assertState(awaitFinal(allowed, Duration.ofSeconds(20)), "completed");
        // A plain job is an explicit request: robots.txt does not apply to it.
        assertState(awaitFinal(plain, Duration.ofSeconds(20)), "completed");
        assertThat(server.hits("site.test", "/robots.txt")).isEqualTo(1);
    }

    @Test
    void aJobThatDoesNotObeyNeverFetchesRobotsTxt() {
        server.robots("quiet.test", 200, "User-agent: *\nDisallow: /\n");
        startWorker(settings());

        assertState(awaitFinal(aJob(server.url("quiet.test", "/page/a")).submit(), Duration.ofSeconds(20)), "completed");
        assertThat(server.hits("quiet.test", "/robots.txt")).isZero();
    }

    @Test
    void jobsWaitQueuedWithoutSpendingAttemptsWhileRobotsTxtIsUnreachable() {
        server.robots("later.test", 503, "down");
        startWorker(settings("robots.retry-unreachable", "300ms"));

        long id = aJob(server.url("later.test", "/page/a")).maxAttempts(1).obeyRobots().submit();
        await("robots.txt tried twice", Duration.ofSeconds(20), () -> server.hits("later.test", "/robots.txt") >= 2);
        // Between the worker's checks the job is queued (when a check runs, briefly running).
        await("job queued between checks", Duration.ofSeconds(20), () -> "queued".equals(result(id).get("state")));
        Map<String, Object> waiting = result(id);
        assertThat(waiting.get("attempts")).as("no attempt spent while waiting").isEqualTo(0);
        assertThat(server.hits("later.test", "/page/a")).isZero();

        server.robots("later.test", 200, "User-agent: *\nAllow: /\n");
        Map<String, Object> done = awaitFinal(id, Duration.ofSeconds(20));
        assertState(done, "completed");
        assertThat(done.get("attempts")).isEqualTo(1);
        assertThat(attempts(id)).hasSize(1);
    }

    @Test
    void jobsFailWithRobotsOnceTheyWaitedMaxWait() {
        server.robots("never.test", 500, "down");
        startWorker(settings("robots.retry-unreachable", "200ms", "robots.max-wait", "1s"));

        Map<String, Object> row = awaitFinal(aJob(server.url("never.test", "/page/a")).obeyRobots().submit(),
                Duration.ofSeconds(20));
        assertState(row, "failed");
        assertThat(row.get("error_kind")).isEqualTo("robots");
        assertThat((String) row.get("error_message")).contains("unreachable").contains("status 500");
        assertThat(server.hits("never.test", "/page/a")).isZero();
    }
}
