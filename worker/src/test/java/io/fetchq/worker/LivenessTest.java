package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.ClaimedJob;
import io.fetchq.db.NewJob;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * No due job sits unclaimed while a worker has room for it: not behind another host's backlog,
 * not behind a breaker opened by a few bad URLs of its own host.
 */
class LivenessTest extends WorkerTestBase {

    private static final Duration SOON = Duration.ofSeconds(10);

    /** Queues {@code n} jobs of {@code host} at once, {@code path} followed by each job's number. */
    private void queueBacklog(String host, String path, int n) {
        List<NewJob> backlog = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            backlog.add(aJob(server.url(host, path + i)).build());
        }
        jobs.insertBatch(backlog);
    }

    @Test
    void aDueJobOfAHostWithRoomIsClaimedWhateverFillsTheClaimWindow() {
        queueBacklog("busy.test", "/slow/300/", 500);
        // Queued after the backlog: far down the claim order, beyond any claim's window.
        long other = aJob(server.url("other.test", "/page/other")).submit();
        startWorker(settings("per-host", "2", "claim-batch", "8", "poll-interval", "200ms"));

        assertState(awaitFinal(other, SOON), "completed");
        assertThat(queued("busy.test")).as("the busy host's backlog is still there").isGreaterThan(400);
        assertThat(server.peak("busy.test")).isBetween(1, 2);
    }

    @Test
    void aJobComingDueIsClaimedWithinThePollIntervalWhileAnotherHostKeepsTheClaimerBusy() {
        queueBacklog("refilled.test", "/slow/50/", 3000);
        // Due in a second, announced by nothing: only a full claim pass finds it.
        long later = aJob(server.url("later.test", "/page/later")).submit();
        sql.sql("UPDATE fetchq.queue SET run_at = now() + interval '1 second' WHERE job_id = :id").param("id", later)
                .update();
        startWorker(settings("per-host", "2", "poll-interval", "200ms"));

        assertState(awaitFinal(later, SOON), "completed");
        assertThat(queued("refilled.test")).as("the busy host's backlog is still there").isGreaterThan(2000);
    }

    @Test
    void oneUrlFailingAllItsAttemptsDoesNotOpenItsHostsBreaker() {
        startWorker(settings("breaker-minimum-calls", "2", "breaker-window", "2", "breaker-open-for", "60s"));
        long bad = aJob(server.url("one.test", "/reset/x")).maxAttempts(6).submit();
        Map<String, Object> failed = awaitFinal(bad, SOON);
        assertState(failed, "failed");
        assertThat(failed.get("attempts")).isEqualTo(6);

        long good = aJob(server.url("one.test", "/page/after")).submit();
        // Had the breaker opened, the job would wait its minute.
        assertState(awaitFinal(good, SOON), "completed");
    }

    @Test
    void unavailableUrlsDoNotOpenTheirHostsBreaker() {
        startWorker(settings("breaker-minimum-calls", "4", "breaker-window", "4", "breaker-open-for", "60s",
                "per-host", "4"));
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            batch.add(aJob(server.url("sad.test", "/status/503/" + i)).maxAttempts(2).build());
        }
        for (int i = 0; i < 12; i++) {
            batch.add(aJob(server.url("sad.test", "/page/p" + i)).build());
        }
        long batchId = jobs.insertBatch(batch).id();
        // Had the breaker opened, the pages would wait its minute.
        await("batch done", SOON, () -> sql.sql("SELECT done FROM fetchq.batch_progress WHERE batch_id = :id")
                .param("id", batchId).query(Boolean.class).single());
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job_results WHERE state = 'completed' AND status_code = 200")
                .query(Long.class).single()).isEqualTo(12);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job_results WHERE state = 'failed' AND attempts = 2")
                .query(Long.class).single()).isEqualTo(12);
    }

    @Test
    void aHostWhoseHeadOfQueueFailsStillDrainsItsGoodJobsThroughTheBreaker() {
        // The first jobs in the claim order reset: they open the breaker. Trial calls drawn from the
        // head would find only them and keep it open; drawn from all due jobs, they close it.
        startWorker(settings("breaker-minimum-calls", "4", "breaker-window", "8", "breaker-open-for", "500ms",
                "breaker-trial-calls", "3", "per-host", "2", "lease", "900ms"));
        List<NewJob> head = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            head.add(aJob(server.url("head.test", "/reset/" + i)).maxAttempts(1).build());
        }
        jobs.insertBatch(head);
        List<NewJob> rest = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rest.add(aJob(server.url("head.test", "/page/p" + i)).build());
        }
        long good = jobs.insertBatch(rest).id();
        await("good jobs done", Duration.ofSeconds(30), () -> sql.sql(
                "SELECT done FROM fetchq.batch_progress WHERE batch_id = :id").param("id", good).query(Boolean.class).single());
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job_results WHERE batch_id = :id AND state = 'completed'")
                .param("id", good).query(Long.class).single()).isEqualTo(100);
        await("resets done", Duration.ofSeconds(30), () -> queued("head.test") == 0);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job_results WHERE error_kind = 'reset' AND attempts = 1")
                .query(Long.class).single()).isEqualTo(30);
    }

    @Test
    void trialJobsAreDrawnAtRandomFromTheHostsDueJobsLeavingOutRecentFailures() {
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            batch.add(aJob("http://trial.example/" + i).build());
        }
        jobs.insertBatch(batch);
        aJob("http://elsewhere.example/").submit();
        List<Long> excluded = sql.sql("SELECT job_id FROM fetchq.queue WHERE host = 'trial.example' LIMIT 50")
                .query(Long.class).list();
        Set<Long> picked = new HashSet<>();
        for (int round = 0; round < 10; round++) {
            List<ClaimedJob> trials = queue.claimTrials("w1", "trial.example", 5, 200, excluded, Duration.ofMinutes(1));
            assertThat(trials).hasSize(5).allSatisfy(t -> {
                assertThat(t.host()).isEqualTo("trial.example");
                assertThat(excluded).doesNotContain(t.jobId());
            });
            trials.forEach(t -> picked.add(t.jobId()));
            sql.sql("UPDATE fetchq.queue SET state = 'queued', lease_token = NULL, attempt = 0 WHERE state = 'running'")
                    .update();
        }
        assertThat(picked).as("different jobs from round to round, not the head of the queue each time")
                .hasSizeGreaterThan(10);
    }

    private static long queued(String host) {
        return sql.sql("SELECT count(*) FROM fetchq.queue WHERE host = :host").param("host", host)
                .query(Long.class).single();
    }
}
