package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook outbox as the statements that change jobs write it: an event and its deliveries in
 * the transaction of the change, for the endpoints subscribed to it; a batch's completion exactly
 * once, whichever statement ends its last job and however many end jobs of it at once.
 */
class EventsSqlTest extends SqlTestBase {

    private static final WebhookQueries webhooks = new WebhookQueries(sql);

    @BeforeEach
    void noEndpoints() {
        sql.sql("TRUNCATE fetchq.webhook, fetchq.event CASCADE").update();
    }

    private static long events(String type) {
        return sql.sql("SELECT count(*) FROM fetchq.event WHERE type = :t").param("t", type).query(Long.class).single();
    }

    private static long batchEvents(long batchId) {
        return sql.sql("SELECT count(*) FROM fetchq.event WHERE type = 'batch.completed' AND batch_id = :b")
                .param("b", batchId).query(Long.class).single();
    }

    @Test
    void aBatchsLastResultWritesOneCompletionAndEachFailureAnEventWithADeliveryPerEndpoint() {
        long all = webhooks.create(Tenants.DEFAULT, "https://hooks.example/all", WebhookQueries.EVENT_TYPES, null).id();
        long done = webhooks.create(Tenants.DEFAULT, "https://hooks.example/done", List.of("batch.completed"), null).id();
        webhooks.create("other", "https://hooks.example/theirs", WebhookQueries.EVENT_TYPES, null);
        BatchRow batch = jobs.insertBatch(List.of(aJob("http://a.example/1").build(), aJob("http://b.example/2").build()));

        List<ClaimedJob> claimed = claimDue();
        queue.completeMany(List.of(completed(claimed.get(0))), WORKER);
        assertThat(batchEvents(batch.id())).as("one job still running").isZero();
        queue.completeMany(List.of(new Completion.Failed(claimed.get(1).claim(), record(500, "http_status", "HTTP 500", 1, null),
                Payload.NONE)), WORKER);

        assertThat(batchEvents(batch.id())).isEqualTo(1);
        assertThat(events("job.failed")).isEqualTo(1);
        // batch.completed to both endpoints, job.failed to the one that wants it; none to another tenant's.
        assertThat(sql.sql("""
                SELECT d.webhook_id || ' ' || e.type FROM fetchq.webhook_delivery d JOIN fetchq.event e ON e.id = d.event_id
                ORDER BY d.webhook_id, e.type""").query(String.class).list())
                .containsExactly(all + " batch.completed", all + " job.failed", done + " batch.completed");
    }

    @Test
    void nothingIsWrittenForATenantWithNoEndpoint() {
        webhooks.create("other", "https://hooks.example/theirs", WebhookQueries.EVENT_TYPES, null);
        jobs.insertBatch(List.of(aJob("http://a.example/1").build()));
        queue.completeMany(List.of(new Completion.Failed(claimOne().claim(), record(500, "http_status", "HTTP 500", 1, null),
                Payload.NONE)), WORKER);
        assertThat(count("fetchq.event")).isZero();
        assertThat(count("fetchq.webhook_delivery")).isZero();
    }

    @Test
    void cancelAndRescueThatEndABatchWriteItsCompletion() {
        webhooks.create(Tenants.DEFAULT, "https://hooks.example/done", List.of("batch.completed", "job.failed"), null);
        BatchRow cancelled = jobs.insertBatch(List.of(aJob("http://a.example/1").build()));
        BatchRow rescued = jobs.insertBatch(List.of(aJob("http://b.example/1").maxAttempts(1).build()));
        queue.claimHosts(WORKER, Map.of("b.example", 1), LEASE);

        batchQueries().cancel(cancelled.id(), null);
        expireLease(jobOf(rescued.id()));
        queue.rescueExpired(100);

        assertThat(batchEvents(cancelled.id())).isEqualTo(1);
        assertThat(batchEvents(rescued.id())).isEqualTo(1);
        assertThat(events("job.failed")).as("the rescued job failed (lease_expired)").isEqualTo(1);
    }

    @Test
    void resultsEndingABatchsLastJobsAtOnceWriteItsCompletionExactlyOnce() throws Exception {
        webhooks.create(Tenants.DEFAULT, "https://hooks.example/done", List.of("batch.completed"), null);
        // A worker that knows of the endpoint: each result's transaction settles its batches.
        raceBatchesToTheirEnd(new QueueQueries(jdbc));
    }

    @Test
    void resultsOfWorkersNotYetAwareOfTheEndpointWriteTheCompletionExactlyOnceToo() throws Exception {
        // Workers that looked for endpoints just before there was one: their results commit on
        // their own and settle their batches right after.
        QueueQueries unaware = new QueueQueries(jdbc);
        unaware.completeMany(List.of(), WORKER);
        webhooks.create(Tenants.DEFAULT, "https://hooks.example/done", List.of("batch.completed"), null);
        raceBatchesToTheirEnd(unaware);
    }

    /** 40 batches of four jobs, one per "worker"; the four end each batch's jobs at once. */
    private static void raceBatchesToTheirEnd(QueueQueries results) throws Exception {
        int batchesOf4 = 40;
        List<Long> batches = new ArrayList<>();
        for (int b = 0; b < batchesOf4; b++) {
            List<NewJob> four = new ArrayList<>();
            for (int j = 0; j < 4; j++) {
                four.add(aJob("http://h" + j + ".example/" + b).build());
            }
            batches.add(jobs.insertBatch(four).id());
        }
        List<List<ClaimedJob>> held = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            held.add(queue.claimHosts("w" + w, Map.of("h" + w + ".example", batchesOf4), LEASE));
            assertThat(held.get(w)).hasSize(batchesOf4);
        }
        CyclicBarrier together = new CyclicBarrier(4);
        try (ExecutorService workers = Executors.newFixedThreadPool(4)) {
            List<Future<?>> ends = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                List<ClaimedJob> mine = held.get(w);
                String id = "w" + w;
                ends.add(workers.submit(() -> {
                    for (ClaimedJob job : mine) {
                        together.await();
                        results.completeMany(List.of(completed(job)), id);
                    }
                    return null;
                }));
            }
            for (Future<?> end : ends) {
                end.get();
            }
        }
        for (long batch : batches) {
            assertThat(batchEvents(batch)).as("completions of batch %d", batch).isEqualTo(1);
        }
        assertThat(count("fetchq.webhook_delivery")).isEqualTo(batchesOf4);
    }

    @Test
    void aScheduleRunsCompletionIsItsOwnEventToo() {
        webhooks.create(Tenants.DEFAULT, "https://hooks.example/runs", List.of("schedule.run_completed"), null);
        long batch = jobs.insertBatch(List.of(aJob("http://a.example/1").build())).id();
        sql.sql("UPDATE fetchq.batch SET schedule_id = 7, nominal_time = now() WHERE id = :b").param("b", batch).update();
        queue.completeMany(List.of(completed(claimOne())), WORKER);

        assertThat(sql.sql("SELECT type || ' ' || schedule_id FROM fetchq.event").query(String.class).list())
                .containsExactly("schedule.run_completed 7");
    }

    @Test
    void aDeliveryIsClaimedOnceAndItsAttemptsAreRecordedUnderTheClaim() {
        long hook = webhooks.create(Tenants.DEFAULT, "https://hooks.example/h", List.of("job.failed"), null).id();
        aJob("http://a.example/1").submit();
        queue.completeMany(List.of(new Completion.Failed(claimOne().claim(), record(500, "http_status", "HTTP 500", 1, null),
                Payload.NONE)), WORKER);

        List<DueDelivery> claimed = webhooks.claimDue(10, Duration.ofSeconds(30));
        assertThat(claimed).hasSize(1);
        assertThat(webhooks.claimDue(10, Duration.ofSeconds(30))).as("held by the first claim").isEmpty();
        DueDelivery first = claimed.getFirst();
        assertThat(first.attempt()).isEqualTo(1);
        assertThat(first.secret()).startsWith("whsec_");
        java.time.Instant now = java.time.Instant.now();
        assertThat(webhooks.record(first, WebhookQueries.Ending.RETRY, 503, "HTTP 503", now, now,
                Duration.ofDays(5))).isTrue();
        assertThat(webhooks.record(first, WebhookQueries.Ending.DELIVERED, 200, null, now, null, Duration.ofDays(5)))
                .as("the claim was spent by the first record").isFalse();

        DueDelivery second = webhooks.claimDue(10, Duration.ofSeconds(30)).getFirst();
        assertThat(second.attempt()).isEqualTo(2);
        assertThat(second.messageId()).isEqualTo(first.messageId());
        assertThat(webhooks.record(second, WebhookQueries.Ending.GONE, 410, "gone", now, null, Duration.ofDays(5))).isTrue();
        WebhookRow endpoint = webhooks.find(hook, null).orElseThrow();
        assertThat(endpoint.disabled()).isTrue();
        assertThat(endpoint.disabledReason()).contains("410");
        assertThat(sql.sql("SELECT attempt || ' ' || status_code FROM fetchq.webhook_deliveries ORDER BY attempt")
                .query(String.class).list()).containsExactly("1 503", "2 410");
    }

    @Test
    void anEndpointWhoseEveryAttemptFailedForTheWholeTimeAllowedIsDisabled() {
        long hook = webhooks.create(Tenants.DEFAULT, "https://hooks.example/down", List.of("job.failed"), null).id();
        for (int i = 0; i < 2; i++) {
            aJob("http://a.example/" + i).submit();
            queue.completeMany(List.of(new Completion.Failed(claimOne().claim(),
                    record(500, "http_status", "HTTP 500", 1, null), Payload.NONE)), WORKER);
        }
        java.time.Instant now = java.time.Instant.now();
        List<DueDelivery> due = webhooks.claimDue(10, Duration.ofSeconds(30));
        assertThat(due).hasSize(2);
        // Failing since six days ago, the limit five: the next failure disables it.
        webhooks.record(due.get(0), WebhookQueries.Ending.RETRY, 503, "HTTP 503", now.minus(Duration.ofDays(6)), now,
                Duration.ofDays(5));
        assertThat(webhooks.find(hook, null).orElseThrow().disabled()).as("one failure, six days old").isTrue();
        assertThat(webhooks.find(hook, null).orElseThrow().disabledReason()).isEqualTo("every delivery failed for 5 days");
        // Enabled again: the run of failures starts over, and a success ends it.
        webhooks.update(hook, null, new WebhookQueries.Change(null, null, null, false));
        assertThat(sql.sql("SELECT failing_since IS NULL FROM fetchq.webhook WHERE id = :id").param("id", hook)
                .query(Boolean.class).single()).isTrue();
        webhooks.record(due.get(1), WebhookQueries.Ending.RETRY, 503, "HTTP 503", now, now, Duration.ofDays(5));
        assertThat(webhooks.find(hook, null).orElseThrow().disabled()).isFalse();
    }

    private static BatchQueries batchQueries() {
        return new BatchQueries(sql, tx);
    }

    private static long jobOf(long batchId) {
        return sql.sql("SELECT min(id) FROM fetchq.job WHERE batch_id = :b").param("b", batchId).query(Long.class).single();
    }
}
