package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.NewJob;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.testing.Concurrently;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Crash recovery, built the way a crash leaves the rows, then the rescuer run once. */
class RescueTest extends WorkerTestBase {

    /** The rows a worker leaves when it dies holding the job at {@code attempt}. */
    private static long crashedWhileRunning(String url, int attempt, int maxAttempts, boolean leaseExpired) {
        long id = aJob(url).maxAttempts(maxAttempts).submit();
        sql.sql("""
                UPDATE fetchq.queue
                SET state = 'running', attempt = :attempt, lease_token = gen_random_uuid(), worker_id = 'dead-worker',
                    lease_expires_at = now() + CASE WHEN :expired THEN interval '-1 second' ELSE interval '1 minute' END,
                    first_started_at = now() - interval '1 minute', attempt_started_at = now() - interval '40 seconds'
                WHERE job_id = :id""")
                .param("attempt", attempt).param("expired", leaseExpired).param("id", id)
                .update();
        return id;
    }

    @Test
    void expiredJobWithAttemptsLeftGoesBackToTheQueueWithTheLostAttemptRecorded() {
        long id = crashedWhileRunning("http://example.com/a", 1, 3, true);
        assertThat(queue.rescueExpired(100)).isEqualTo(new QueueQueries.Rescued(1, 0));
        Map<String, Object> job = result(id);
        assertState(job, "queued");
        assertThat(job.get("attempts")).isEqualTo(1);
        List<Map<String, Object>> attempts = attempts(id);
        assertThat(attempts).hasSize(1);
        assertThat(attempts.getFirst()).containsEntry("attempt", 1).containsEntry("error_kind", "lease_expired")
                .containsEntry("worker_id", "dead-worker");
    }

    @Test
    void expiredJobWithItsBudgetSpentFails() {
        long id = crashedWhileRunning("http://example.com/b", 3, 3, true);
        assertThat(queue.rescueExpired(100)).isEqualTo(new QueueQueries.Rescued(0, 1));
        Map<String, Object> job = result(id);
        assertState(job, "failed");
        assertThat(job.get("error_kind")).isEqualTo("lease_expired");
        assertThat(job.get("attempts")).isEqualTo(3);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.queue").query(Long.class).single()).isZero();
    }

    @Test
    void liveLeaseIsLeftAlone() {
        long id = crashedWhileRunning("http://example.com/c", 1, 3, false);
        assertThat(queue.rescueExpired(100)).isEqualTo(new QueueQueries.Rescued(0, 0));
        assertState(result(id), "running");
        assertThat(attempts(id)).isEmpty();
    }

    @Test
    void expiredJobWhoseCancelWasRequestedEndsCancelled() {
        long id = crashedWhileRunning("http://example.com/d", 1, 3, true);
        jobs.cancel(id, null);
        queue.rescueExpired(100);
        assertState(result(id), "cancelled");
    }

    @Test
    void concurrentRescuersRescueEachJobOnce() throws Exception {
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            batch.add(aJob("http://example.com/" + i).build());
        }
        jobs.insertBatch(batch);
        sql.sql("""
                UPDATE fetchq.queue SET state = 'running', attempt = 1, lease_token = gen_random_uuid(),
                       worker_id = 'dead-worker', lease_expires_at = now() - interval '1 second'""").update();
        List<Long> rescued = Concurrently.run(4, i -> () -> {
            long total = 0;
            QueueQueries.Rescued r;
            do {
                r = queue.rescueExpired(100);
                total += r.requeued();
            } while (r.requeued() > 0);
            return total;
        });
        assertThat(rescued.stream().mapToLong(Long::longValue).sum()).isEqualTo(2000);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.attempts WHERE error_kind = 'lease_expired'")
                .query(Long.class).single()).isEqualTo(2000);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.queue WHERE state = 'queued' AND attempt = 1")
                .query(Long.class).single()).isEqualTo(2000);
    }

    @Test
    void aWorkerRescuesJobsOfADeadWorkerAndFetchesThem() {
        long id = crashedWhileRunning(server.url("/page/rescued"), 1, 3, true);
        startWorker(settings("lease", "600ms"));
        Map<String, Object> job = awaitFinal(id, Duration.ofSeconds(30));
        assertState(job, "completed");
        assertThat(job.get("attempts")).isEqualTo(2);
        assertThat(attempts(id)).extracting(a -> a.get("error_kind")).containsExactly("lease_expired", null);
    }

    @Test
    void silentWorkersAreMarkedLostAndPruned() {
        workers.register("gone", "h", 1);
        workers.register("alive", "h", 2);
        workers.register("old", "h", 3);
        sql.sql("UPDATE fetchq.worker SET last_seen_at = now() - interval '2 minutes' WHERE worker_id = 'gone'").update();
        sql.sql("UPDATE fetchq.worker SET state = 'stopped', last_seen_at = now() - interval '2 days' WHERE worker_id = 'old'")
                .update();
        workers.markLostAndPrune(Duration.ofSeconds(30), Duration.ofDays(1));
        assertThat(sql.sql("SELECT worker_id || ':' || state FROM fetchq.workers ORDER BY worker_id")
                .query(String.class).list()).containsExactly("alive:running", "gone:lost");
    }

    @Test
    void notificationWakesTheWorkerAndSurvivesALostConnection() throws Exception {
        Worker worker = startWorker(settings("poll-interval", "60s"));
        String url = dataSource.getJdbcUrl();
        try (NotificationListener listener = new NotificationListener(() -> {
            try {
                return DriverManager.getConnection(url);
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        }, worker::wake, worker.id(), WorkerMetrics.none())) {
            listener.start();
            await("listening", Duration.ofSeconds(10), () -> listeners() == 1);
            long first = aJob(server.url("/page/n1")).submit();
            assertState(awaitFinal(first, Duration.ofSeconds(10)), "completed");

            sql.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' "
                    + "AND datname = current_database()").query().listOfRows();
            await("listening again", Duration.ofSeconds(10), () -> listeners() == 1);
            long second = aJob(server.url("/page/n2")).submit();
            assertState(awaitFinal(second, Duration.ofSeconds(10)), "completed");
        }
    }

    private static long listeners() {
        return sql.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()"
                + " AND state <> 'active' AND backend_type = 'client backend'").query(Long.class).single();
    }
}
