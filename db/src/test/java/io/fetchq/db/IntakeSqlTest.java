package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The intake family of {@link JobQueries}: jobs inserted one at a time or as a batch, idempotency
 * keys, and the requests that change a job from outside (cancel, retry).
 */
class IntakeSqlTest extends SqlTestBase {

    @Test
    void insertOneStoresTheJobAndQueuesIt() {
        InsertOutcome outcome = jobs.insertOne(aJob("http://example.com/post").post("{\"a\":1}").headers("{\"X-A\":\"b\"}")
                .priority(3).maxAttempts(4).metadata("{\"k\": \"v\"}").build());

        assertThat(outcome).isInstanceOf(InsertOutcome.Created.class);
        long id = outcome.jobId();
        assertThat(result(id)).containsEntry("url", "http://example.com/post").containsEntry("host", "example.com")
                .containsEntry("method", "POST").containsEntry("state", "queued").containsEntry("priority", 3)
                .containsEntry("attempts", 0).containsEntry("max_attempts", 4).containsEntry("batch_id", null);
        assertThat(String.valueOf(result(id).get("metadata"))).isEqualTo("{\"k\": \"v\"}");
        Map<String, Object> request = sql.sql("SELECT tenant, headers::text, body FROM fetchq.job WHERE id = :id")
                .param("id", id).query().singleRow();
        assertThat(request).containsEntry("tenant", Tenants.DEFAULT).containsEntry("headers", "{\"X-A\": \"b\"}");
        assertThat(new String((byte[]) request.get("body"), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
        assertThat(queueRow(id).orElseThrow()).containsEntry("state", "queued").containsEntry("host", "example.com")
                .containsEntry("priority", 3).containsEntry("attempt", 0).containsEntry("attempt_limit", 4);
    }

    @Test
    void aDelayedJobIsDueOnceItsDelayIsOver() {
        long id = aJob("http://example.com/later").delay(Duration.ofMinutes(1)).submit();

        assertThat(secondsUntilDue(id)).isBetween(50.0, 60.0);
    }

    @Test
    void aRunAtInThePastIsDueNowAndGetsNoAheadOfJobsAlreadyDue() {
        long waiting = aJob("http://example.com/waiting").submit();
        long backdated = aJob("http://example.com/backdated").runAt(Instant.parse("2001-01-01T00:00:00Z")).submit();

        assertThat(secondsUntilDue(backdated)).isBetween(-5.0, 0.0);
        assertThat(claimDue()).extracting(ClaimedJob::jobId).as("claim order").containsExactly(waiting, backdated);
    }

    /**
     * Statistics taken while the queue was small would have claims planned for a few rows when a
     * large batch lands (reading every due row for a window of a few hundred); a large batch has the
     * queue analyzed again once it is committed.
     */
    @Test
    void aLargeBatchHasTheQueueAnalyzedOnceCommitted() {
        sql.sql("ANALYZE fetchq.queue").update();
        double before = queueRowsAsAnalyzed();
        JobQueries analyzingAfter100 = new JobQueries(sql, jdbc, tx,
                new Notifier(jdbc, JobQueries.NOTIFY_CHANNEL, Duration.ZERO),
                new DbProperties(Duration.ofSeconds(60), Duration.ofSeconds(30), true, Duration.ofSeconds(10),
                        Duration.ofMillis(10), 100));
        List<NewJob> hundred = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            hundred.add(aJob("http://large.example/" + i).build());
        }
        analyzingAfter100.insertBatch(hundred);
        Awaitility.await("the queue analyzed again").atMost(Duration.ofSeconds(30))
                .until(() -> queueRowsAsAnalyzed() >= before + 100);
    }

    private static double queueRowsAsAnalyzed() {
        return sql.sql("SELECT reltuples FROM pg_class WHERE oid = 'fetchq.queue'::regclass").query(Double.class).single();
    }

    @Test
    void insertBatchQueuesEveryJobUnderOneNewBatch() {
        BatchRow batch = jobs.insertBatch(List.of(aJob("http://a.example/").build(), aJob("http://b.example/").build(),
                aJob("http://c.example/").build()));

        assertThat(batch.total()).isEqualTo(3);
        assertThat(batch.queued()).isEqualTo(3);
        assertThat(count("fetchq.job_results WHERE state = 'queued' AND batch_id = " + batch.id())).isEqualTo(3);
        assertThat(count("fetchq.queue")).isEqualTo(3);
        assertThat(sql.sql("SELECT total, queued, done FROM fetchq.batch_progress WHERE batch_id = :id")
                .param("id", batch.id()).query().singleRow())
                .containsEntry("total", 3).containsEntry("queued", 3L).containsEntry("done", false);
    }

    /**
     * A batch keeps every value as it was given, whatever encoding carries it to the database:
     * tabs, newlines, backslashes, quotes in array elements, text beyond ASCII and every byte
     * value, in the order given, with the due times and queue states of the single insert.
     */
    @Test
    void aBatchKeepsEveryValueAsGiven() {
        byte[] body = new byte[256];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        String headers = "{\"X-A\": \"tab\\there\\nnew line \\\\ back\\\"slash\"}";
        String metadata = "{\"note\": \"caf\u00e9 \u2603 \\t\\r\\n \\\\N\", \"n\": [1, null]}";
        NewJob tricky = new NewJob("http://example.com/a%09b?q=%5C", "example.com", "PUT", headers, body, -7, null,
                60_000, 5, 1234, 4321, false, false, List.of("title", "we\"ird\\one", "links"), false, "key\twith\\tab",
                new byte[] {0, 1, (byte) 0xff}, metadata);
        NewJob past = aJob("http://example.com/past").runAt(Instant.parse("2001-01-01T00:00:00Z")).build();
        BatchRow batch = jobs.insertBatch(List.of(tricky, past));

        Map<String, Object> row = sql.sql("""
                SELECT url, host, method, headers = CAST(:headers AS jsonb) AS same_headers, body, priority,
                       max_attempts, timeout_ms, max_body_bytes, store_body, follow_redirects, extract::text AS extract,
                       idempotency_key, request_hash, metadata = CAST(:metadata AS jsonb) AS same_metadata,
                       extract(epoch FROM run_at - created_at) AS due_in
                FROM fetchq.job WHERE batch_id = :batch ORDER BY id LIMIT 1""")
                .param("headers", headers).param("metadata", metadata).param("batch", batch.id()).query().singleRow();
        assertThat(row).containsEntry("url", "http://example.com/a%09b?q=%5C").containsEntry("host", "example.com")
                .containsEntry("method", "PUT").containsEntry("same_headers", true).containsEntry("priority", -7)
                .containsEntry("max_attempts", 5).containsEntry("timeout_ms", 1234)
                .containsEntry("max_body_bytes", 4321).containsEntry("store_body", false)
                .containsEntry("follow_redirects", false)
                .containsEntry("extract", "{title,\"we\\\"ird\\\\one\",links}")
                .containsEntry("idempotency_key", "key\twith\\tab").containsEntry("same_metadata", true);
        assertThat((byte[]) row.get("body")).isEqualTo(body);
        assertThat((byte[]) row.get("request_hash")).containsExactly(0, 1, 0xff);
        assertThat(((Number) row.get("due_in")).doubleValue()).isEqualTo(60.0);
        assertThat(sql.sql("""
                SELECT q.state FROM fetchq.queue q JOIN fetchq.job j ON j.id = q.job_id
                WHERE j.batch_id = :batch ORDER BY j.id""").param("batch", batch.id()).query(String.class).list())
                .as("the delayed job waits as scheduled; one due in the past is due now")
                .containsExactly("scheduled", "queued");
        assertThat(sql.sql("SELECT url FROM fetchq.job WHERE batch_id = :batch ORDER BY id").param("batch", batch.id())
                .query(String.class).list()).containsExactly("http://example.com/a%09b?q=%5C", "http://example.com/past");
        assertThat(sql.sql("""
                SELECT extract(epoch FROM j.run_at - j.created_at) FROM fetchq.job j
                WHERE j.batch_id = :batch AND j.url LIKE '%/past'""").param("batch", batch.id()).query(Double.class)
                .single()).as("a run_at in the past is due at intake").isZero();
    }

    @Test
    void aBatchWithATakenIdempotencyKeyInsertsNothing() {
        aJob("http://example.com/first").idempotencyKey("taken", "first").submit();

        assertThatThrownBy(() -> jobs.insertBatch(List.of(
                aJob("http://example.com/new").idempotencyKey("free", "new").build(),
                aJob("http://example.com/again").idempotencyKey("taken", "again").build())))
                .isInstanceOfSatisfying(IdempotencyKeyConflictException.class,
                        e -> assertThat(e.indexes()).containsExactly(1));

        assertThat(count("fetchq.job")).isEqualTo(1);
        assertThat(count("fetchq.batch")).isZero();
    }

    @Test
    void anIdempotencyKeyReusedByTheSameRequestAnswersTheExistingJob() {
        long id = aJob("http://example.com/once").idempotencyKey("k", "request").submit();

        InsertOutcome again = jobs.insertOne(aJob("http://example.com/once").idempotencyKey("k", "request").build());

        assertThat(again).isEqualTo(new InsertOutcome.Existing(id));
        assertThat(count("fetchq.job")).isEqualTo(1);
    }

    @Test
    void anIdempotencyKeyReusedByAnotherRequestIsAConflict() {
        long id = aJob("http://example.com/once").idempotencyKey("k", "request").submit();

        InsertOutcome other = jobs.insertOne(aJob("http://example.com/other").idempotencyKey("k", "other").build());

        assertThat(other).isEqualTo(new InsertOutcome.KeyConflict(id));
        assertThat(count("fetchq.job")).isEqualTo(1);
    }

    @Test
    void anotherTenantsIdempotencyKeyNeitherConflictsNorAnswers() {
        long id = aJob("http://example.com/once").idempotencyKey("k", "request").submit();

        InsertOutcome theirs = jobs.insertOne("acme", aJob("http://example.com/once").idempotencyKey("k", "request").build());

        assertThat(theirs).isInstanceOf(InsertOutcome.Created.class);
        assertThat(theirs.jobId()).isNotEqualTo(id);
    }

    @Test
    void cancelEndsAQueuedJobCancelledAndOutOfTheQueue() {
        long id = aJob("http://example.com/unwanted").submit();

        assertThat(jobs.cancel(id, null).orElseThrow().state()).isEqualTo(JobState.CANCELLED);

        assertThat(result(id)).containsEntry("state", "cancelled").containsEntry("error_kind", "cancelled")
                .containsEntry("error_message", "cancelled by request");
        assertThat(result(id).get("finished_at")).isNotNull();
        assertThat(queueRow(id)).isEmpty();
        assertThat(claimDue()).isEmpty();
    }

    @Test
    void retryQueuesAFailedJobAgainWithAFreshBudget() {
        long id = aJob("http://example.com/broken").maxAttempts(1).submit();
        ClaimedJob claimed = claimOne();
        queue.completeMany(List.of(new Completion.Failed(claimed.claim(), record(500, "http_status", "HTTP 500", 1, null),
                new Payload("text/plain", 4L, false, null, null, null, null, "oops".getBytes(), null, null))), WORKER);
        assertThat(jobs.bodyOf(id)).isPresent();

        assertThat(jobs.retry(id, null)).isEqualTo(RetryOutcome.RETRIED);

        assertThat(result(id)).containsEntry("state", "queued").containsEntry("attempts", 0)
                .containsEntry("status_code", null).containsEntry("error_kind", null).containsEntry("finished_at", null);
        assertThat(jobs.bodyOf(id)).as("the old result's body").isEmpty();
        assertThat(queueRow(id).orElseThrow()).containsEntry("attempt", 1).containsEntry("attempt_limit", 2);
        ClaimedJob again = claimOne();
        assertThat(again.attempt()).isEqualTo(2);
        assertThat(again.attemptInBudget()).isEqualTo(1);
        assertThat(attempts(id)).hasSize(1);
    }

    @Test
    void retryRefusesAJobThatIsNotFailedOrCancelled() {
        long id = aJob("http://example.com/fine").submit();

        assertThat(jobs.retry(id, null)).isEqualTo(RetryOutcome.NOT_RETRYABLE);
        assertThat(jobs.retry(id + 1000, null)).isEqualTo(RetryOutcome.NOT_FOUND);
        assertThat(queueRow(id).orElseThrow()).containsEntry("attempt", 0).containsEntry("attempt_limit", 3);
    }
}
