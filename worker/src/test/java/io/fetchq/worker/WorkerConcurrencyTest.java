package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.ClaimedJob;
import io.fetchq.db.NewJob;
import io.fetchq.db.testing.Concurrently;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Limits hold under load, and concurrent claimers never share a job. */
class WorkerConcurrencyTest extends WorkerTestBase {

    @Test
    void perHostLimitIsNeverExceeded() {
        startWorker(settings("per-host", "3", "max-in-flight", "64"));
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            batch.add(aJob(server.url("slow.test", "/slow/20")).build());
        }
        long batchId = jobs.insertBatch(batch).id();
        await("batch done", Duration.ofSeconds(60), () -> batchDone(batchId));
        assertThat(server.hits("/slow/20")).isEqualTo(200);
        assertThat(server.peak("slow.test")).isBetween(1, 3);
        assertThat(completed(batchId)).isEqualTo(200);
    }

    @Test
    void aHostsLimitHoldsForTheWholeFleetAndEveryWorkerGetsItsPart() {
        for (int w = 0; w < 3; w++) {
            startWorker(settings("per-host", "4", "max-in-flight", "64"));
        }
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            batch.add(aJob(server.url("fleet.test", "/slow/30")).build());
        }
        long batchId = jobs.insertBatch(batch).id();
        await("batch done", Duration.ofSeconds(90), () -> batchDone(batchId));
        assertThat(completed(batchId)).isEqualTo(300);
        assertThat(server.peak("fleet.test")).as("requests in flight from three workers at once").isBetween(1, 4);
        assertThat(sql.sql("SELECT count(DISTINCT worker_id) FROM fetchq.attempt").query(Long.class).single())
                .as("workers that fetched: the limit is shared, not taken by the first").isGreaterThan(1);
    }

    @Test
    void jobsHeldBackByTheirHostAreClaimedAsSoonAsItHasRoomNotAtTheNextPoll() {
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            batch.add(aJob(server.url("narrow.test", "/slow/50")).build());
        }
        long batchId = jobs.insertBatch(batch).id();
        // Queued first: no LISTEN here, so only the worker's first claim and its own wake-ups find them.
        startWorker(settings("per-host", "2", "poll-interval", "60s"));
        // Ten rounds of two: finishing well inside one poll interval means each freed slot woke the claimer.
        await("batch done", Duration.ofSeconds(30), () -> batchDone(batchId));
        assertThat(server.peak("narrow.test")).isBetween(1, 2);
    }

    @Test
    void globalLimitIsNeverExceeded() {
        startWorker(settings("per-host", "8", "max-in-flight", "16"));
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            batch.add(aJob(server.url("h" + (i % 20) + ".test", "/slow/20")).build());
        }
        long batchId = jobs.insertBatch(batch).id();
        await("batch done", Duration.ofSeconds(60), () -> batchDone(batchId));
        assertThat(server.peak.get()).isBetween(2, 16);
        assertThat(completed(batchId)).isEqualTo(400);
    }

    @Test
    void concurrentClaimersClaimEachJobExactlyOnce() throws Exception {
        int total = 10_000;
        List<NewJob> batch = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            batch.add(aJob("http://h" + (i % 500) + ".example/" + i).build());
        }
        jobs.insertBatch(batch);
        List<List<Long>> claims = Concurrently.run(4, c -> () -> {
            List<Long> mine = new ArrayList<>();
            while (true) {
                List<ClaimedJob> claimed = queue.claimDue("claimer-" + c, 100, 400, 1_000, Map.of(), Duration.ofMinutes(5));
                if (claimed.isEmpty() && remainingQueued() == 0) {
                    return mine;
                }
                claimed.forEach(j -> mine.add(j.jobId()));
            }
        });
        List<Long> all = claims.stream().flatMap(List::stream).toList();
        Set<Long> distinct = new HashSet<>(all);
        assertThat(all).hasSize(total);
        assertThat(distinct).hasSize(total);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.queue WHERE state = 'running' AND attempt = 1")
                .query(Long.class).single()).isEqualTo(total);
    }

    private static long remainingQueued() {
        return sql.sql("SELECT count(*) FROM fetchq.queue WHERE state = 'queued'").query(Long.class).single();
    }

    private static long completed(long batchId) {
        return sql.sql("SELECT completed FROM fetchq.batch_progress WHERE batch_id = :id").param("id", batchId)
                .query(Long.class).single();
    }
}
