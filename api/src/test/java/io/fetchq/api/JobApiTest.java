package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.Concurrently;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class JobApiTest extends ApiTestBase {

    @Test
    void submittedJobIsCommittedQueuedAndReadable() {
        Response created = postJson("/api/v1/jobs", """
                {"url": "HTTPS://Example.COM:443/a/../b?q=1#top", "method": "post", "headers": {"X-Trace": "t1"},
                 "body": "{\\"k\\":1}", "priority": 7, "delay_ms": 60000, "max_attempts": 5, "timeout_ms": 5000,
                 "max_body_bytes": 1024, "store_body": false, "follow_redirects": false,
                 "extract": ["title", "links"], "metadata": {"customer": "acme", "n": [1, 2]}}""");

        assertThat(created.status()).isEqualTo(201);
        JsonNode job = created.json();
        long id = job.get("id").asLong();
        assertThat(created.location()).isEqualTo("/api/v1/jobs/" + id);
        assertThat(job.get("url").asString()).isEqualTo("https://example.com/b?q=1");
        assertThat(job.get("method").asString()).isEqualTo("POST");
        assertThat(job.get("state").asString()).isEqualTo("queued");
        assertThat(job.get("priority").asInt()).isEqualTo(7);
        assertThat(job.get("attempts").asInt()).isZero();
        assertThat(job.get("max_attempts").asInt()).isEqualTo(5);
        assertThat(job.get("metadata").get("customer").asString()).isEqualTo("acme");
        assertThat(job.get("result").isNull()).isTrue();
        assertThat(job.get("next_attempt_at").asString()).isNotBlank();

        assertThat(get("/api/v1/jobs/" + id).json()).isEqualTo(job);
        var stored = sql.sql("""
                SELECT host, convert_from(body, 'UTF8') AS body, timeout_ms, max_body_bytes, store_body,
                       follow_redirects, extract::text AS extract, headers->>'X-Trace' AS trace,
                       run_at > created_at + interval '59 seconds' AS delayed
                FROM fetchq.job WHERE id = :id""").param("id", id).query().singleRow();
        assertThat(stored).containsEntry("host", "example.com").containsEntry("body", "{\"k\":1}")
                .containsEntry("timeout_ms", 5000).containsEntry("max_body_bytes", 1024)
                .containsEntry("store_body", false).containsEntry("follow_redirects", false)
                .containsEntry("extract", "{title,links}").containsEntry("trace", "t1")
                .containsEntry("delayed", true);
        assertThat(sql.sql("SELECT state FROM fetchq.job_results WHERE job_id = :id").param("id", id)
                .query(String.class).single()).isEqualTo("queued");
    }

    @Test
    void defaultsComeFromSettings() {
        JsonNode job = postJson("/api/v1/jobs", "{\"url\": \"http://example.com/\"}").json();
        var stored = sql.sql("SELECT method, max_attempts, timeout_ms, max_body_bytes, store_body, follow_redirects"
                + " FROM fetchq.job WHERE id = :id").param("id", job.get("id").asLong()).query().singleRow();
        assertThat(stored).containsEntry("method", "GET").containsEntry("max_attempts", 3)
                .containsEntry("timeout_ms", 60_000).containsEntry("max_body_bytes", 1_048_576)
                .containsEntry("store_body", true).containsEntry("follow_redirects", true);
    }

    @Test
    void idempotencyKeyReturnsTheSameJobForTheSameRequestAndConflictsOtherwise() {
        String request = "{\"url\": \"http://example.com/x\", \"idempotency_key\": \"order-17\", \"metadata\": {\"a\": 1, \"b\": 2}}";
        Response first = postJson("/api/v1/jobs", request);
        assertThat(first.status()).isEqualTo(201);

        // Same request, keys in another order: the same job.
        Response again = postJson("/api/v1/jobs",
                "{\"metadata\": {\"b\": 2, \"a\": 1}, \"idempotency_key\": \"order-17\", \"url\": \"http://example.com/x\"}");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("id")).isEqualTo(first.json().get("id"));

        Response different = postJson("/api/v1/jobs", "{\"url\": \"http://example.com/y\", \"idempotency_key\": \"order-17\"}");
        assertThat(different.problem(409).get("detail").asString()).contains("already used by job");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job").query(Long.class).single()).isEqualTo(1);
    }

    @Test
    void concurrentIdenticalSubmitsMakeOneJob() throws Exception {
        List<Response> responses = Concurrently.run(8, i -> () ->
                postJson("/api/v1/jobs", "{\"url\": \"http://example.com/race\", \"idempotency_key\": \"race\"}"));
        Set<Long> ids = new HashSet<>();
        List<Integer> statuses = new ArrayList<>();
        for (Response response : responses) {
            statuses.add(response.status());
            ids.add(response.json().get("id").asLong());
        }
        assertThat(ids).hasSize(1);
        assertThat(statuses).containsOnly(200, 201).containsOnlyOnce(201);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job").query(Long.class).single()).isEqualTo(1);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.queue").query(Long.class).single()).isEqualTo(1);
    }

    @Test
    void listingPagesByKeysetWithFilters() {
        for (int i = 0; i < 5; i++) {
            postJson("/api/v1/jobs", "{\"url\": \"http://a.example/" + i + "\"}");
            postJson("/api/v1/jobs", "{\"url\": \"http://b.example/" + i + "\"}");
        }
        List<String> seen = new ArrayList<>();
        String next = "0";
        int pages = 0;
        while (next != null) {
            JsonNode page = get("/api/v1/jobs?host=A.example&limit=2&after_id=" + next).json();
            page.get("jobs").forEach(j -> seen.add(j.get("url").asString()));
            next = page.get("next_after_id").isNull() ? null : page.get("next_after_id").asString();
            pages++;
        }
        assertThat(seen).containsExactly("http://a.example/0", "http://a.example/1", "http://a.example/2",
                "http://a.example/3", "http://a.example/4");
        assertThat(pages).isEqualTo(3);

        long first = sql.sql("SELECT min(id) FROM fetchq.job").query(Long.class).single();
        markRunning(first);
        JsonNode running = get("/api/v1/jobs?state=running").json().get("jobs");
        assertThat(running).hasSize(1);
        assertThat(running.get(0).get("id").asLong()).isEqualTo(first);
        assertThat(get("/api/v1/jobs?state=queued&limit=1000").json().get("jobs")).hasSize(9);

        get("/api/v1/jobs?state=sleeping").problem(400);
        assertThat(get("/api/v1/jobs?limit=0").problem(400).get("errors").get(0).get("parameter").asString())
                .isEqualTo("limit");
    }

    @Test
    void cancelEndsAQueuedJobFlagsARunningOneAndLeavesAFinalOne() {
        long queued = submit("http://example.com/1");
        long running = submit("http://example.com/2");
        long done = submit("http://example.com/3");
        markRunning(running);
        finish(done, "completed", 200, null);

        JsonNode cancelled = post("/api/v1/jobs/" + queued + "/cancel").json();
        assertThat(cancelled.get("state").asString()).isEqualTo("cancelled");
        assertThat(cancelled.get("result").get("error_kind").asString()).isEqualTo("cancelled");
        assertThat(cancelled.get("finished_at").isNull()).isFalse();

        assertThat(post("/api/v1/jobs/" + running + "/cancel").json().get("state").asString()).isEqualTo("running");
        assertThat(sql.sql("SELECT cancel_requested FROM fetchq.queue WHERE job_id = :id").param("id", running)
                .query(Boolean.class).single()).isTrue();

        JsonNode untouched = post("/api/v1/jobs/" + done + "/cancel").json();
        assertThat(untouched.get("state").asString()).isEqualTo("completed");
        assertThat(untouched.get("result").get("status_code").asInt()).isEqualTo(200);

        post("/api/v1/jobs/987654/cancel").problem(404);
    }

    @Test
    void retryQueuesAFailedJobWithAFreshBudgetAndRefusesOthers() {
        long failed = submit("http://example.com/f");
        markRunning(failed);
        finish(failed, "failed", null, "connect");
        long completed = submit("http://example.com/c");
        finish(completed, "completed", 404, null);

        JsonNode retried = post("/api/v1/jobs/" + failed + "/retry").json();
        assertThat(retried.get("state").asString()).isEqualTo("queued");
        assertThat(retried.get("attempts").asInt()).isZero();
        assertThat(retried.get("result").isNull()).isTrue();
        var queue = sql.sql("SELECT attempt, attempt_limit FROM fetchq.queue WHERE job_id = :id")
                .param("id", failed).query().singleRow();
        assertThat(queue).containsEntry("attempt", 1).containsEntry("attempt_limit", 4);

        assertThat(post("/api/v1/jobs/" + completed + "/retry").problem(409).get("detail").asString())
                .contains("completed");
        post("/api/v1/jobs/" + failed + "/retry").problem(409);
        post("/api/v1/jobs/987654/retry").problem(404);
    }

    @Test
    void aJobObeysRobotsTxtWhenItSaysSo() {
        long obey = postJson("/api/v1/jobs", "{\"url\": \"http://example.com/a\", \"robots\": \"obey\"}")
                .json().get("id").asLong();
        long ignore = postJson("/api/v1/jobs", "{\"url\": \"http://example.com/b\", \"robots\": \"ignore\"}")
                .json().get("id").asLong();
        long plain = submit("http://example.com/c");
        long batch = postJson("/api/v1/batches", """
                {"defaults": {"robots": "obey"}, "urls": ["http://example.com/d"]}""").json().get("id").asLong();
        assertThat(sql.sql("SELECT robots FROM fetchq.job WHERE id IN (:a, :b, :c) ORDER BY id")
                .param("a", obey).param("b", ignore).param("c", plain).query(Boolean.class).list())
                .containsExactly(true, false, false);
        assertThat(sql.sql("SELECT robots FROM fetchq.job WHERE batch_id = :b").param("b", batch)
                .query(Boolean.class).single()).isTrue();

        JsonNode bad = postJson("/api/v1/jobs", "{\"url\": \"http://example.com/\", \"robots\": \"maybe\"}")
                .problem(400);
        assertThat(bad.get("errors").get(0).get("pointer").asString()).isEqualTo("/robots");
        assertThat(bad.get("errors").get(0).get("detail").asString()).contains("obey or ignore");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job").query(Long.class).single()).isEqualTo(4);
    }

    @Test
    void conditionalIsAGetsChoiceAndTheResultSaysWhetherThePageChanged() {
        long id = postJson("/api/v1/jobs", "{\"url\": \"http://example.com/watched\", \"conditional\": true}")
                .json().get("id").asLong();
        long plain = submit("http://example.com/plain");
        assertThat(sql.sql("SELECT conditional FROM fetchq.job WHERE id IN (:a, :b) ORDER BY id")
                .param("a", id).param("b", plain).query(Boolean.class).list()).containsExactly(true, false);

        JsonNode post = postJson("/api/v1/jobs", """
                {"url": "http://example.com/form", "method": "POST", "body": "x", "conditional": true}""").problem(400);
        assertThat(post.get("errors").get(0).get("pointer").asString()).isEqualTo("/conditional");
        assertThat(post.get("errors").get(0).get("detail").asString()).contains("GET");
        JsonNode batch = postJson("/api/v1/batches", """
                {"defaults": {"conditional": true}, "jobs": [{"url": "http://example.com/1"},
                 {"url": "http://example.com/2", "method": "DELETE"}]}""").problem(400);
        assertThat(batch.get("errors").get(0).get("pointer").asString()).isEqualTo("/jobs/1/method");
        postJson("/api/v1/jobs", "{\"url\": \"http://example.com/\", \"conditional\": \"yes\"}").problem(400);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job").query(Long.class).single()).isEqualTo(2);

        finish(id, "completed", 304, null);
        sql.sql("""
                UPDATE fetchq.job SET etag = '"v7"', last_modified = '2026-11-30T08:00:00Z', not_modified = true,
                                      changed = false
                WHERE id = :id""").param("id", id).update();
        JsonNode result = get("/api/v1/jobs/" + id).json().get("result");
        assertThat(result.get("etag").asString()).isEqualTo("\"v7\"");
        assertThat(result.get("last_modified").asString()).isEqualTo("2026-11-30T08:00:00Z");
        assertThat(result.get("not_modified").asBoolean()).isTrue();
        assertThat(result.get("changed").isBoolean()).isTrue();
        assertThat(result.get("changed").asBoolean()).isFalse();
    }

    @Test
    void attemptsAndStoredBodyAreServed() {
        long id = submit("http://example.com/page");
        sql.sql("""
                INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, status_code,
                                            error_kind, dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms, remote_ip, redirects)
                VALUES (:id, 1, 'w1', now(), now(), 503, NULL, 1, 2, 3, 4, 10, '93.184.216.34', '[]'),
                       (:id, 2, 'w2', now(), now(), 200, NULL, NULL, NULL, NULL, 5, 6, '93.184.216.34',
                        '[{"status": 301, "url": "http://example.com/old"}]')""").param("id", id).update();
        sql.sql("INSERT INTO fetchq.body (job_id, content_type, body) VALUES (:id, 'text/html; charset=utf-8', :b)")
                .param("id", id).param("b", "<title>Hi</title>".getBytes()).update();

        JsonNode attempts = get("/api/v1/jobs/" + id + "/attempts").json().get("attempts");
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).get("status_code").asInt()).isEqualTo(503);
        assertThat(attempts.get(0).get("ttfb_ms").asInt()).isEqualTo(4);
        assertThat(attempts.get(1).get("redirects").get(0).get("status").asInt()).isEqualTo(301);
        assertThat(attempts.get(1).get("remote_ip").asString()).isEqualTo("93.184.216.34");

        Response body = get("/api/v1/jobs/" + id + "/body");
        assertThat(body.status()).isEqualTo(200);
        assertThat(body.contentType()).startsWith("text/html");
        assertThat(body.body()).isEqualTo("<title>Hi</title>");

        get("/api/v1/jobs/" + submit("http://example.com/none") + "/body").problem(404);
        get("/api/v1/jobs/987654/attempts").problem(404);
    }

    @Test
    void waitMsHoldsUntilTheJobIsFinal() throws Exception {
        long id = submit("http://example.com/slow");
        ExecutorService finisher = Executors.newSingleThreadExecutor();
        try {
            Future<Response> waiting = Executors.newVirtualThreadPerTaskExecutor()
                    .submit(() -> get("/api/v1/jobs/" + id + "?wait_ms=20000"));
            awaitHeldLongPoll();
            assertThat(waiting).as("held while the job is not final").isNotDone();
            finisher.submit(() -> finish(id, "completed", 200, null)).get();
            JsonNode job = waiting.get().json();
            assertThat(job.get("state").asString()).isEqualTo("completed");
        } finally {
            finisher.shutdownNow();
        }
        // Without a result to wait for, the wait ends at wait_ms with the current state.
        long queued = submit("http://example.com/q");
        assertThat(get("/api/v1/jobs/" + queued + "?wait_ms=50").json().get("state").asString()).isEqualTo("queued");
        get("/api/v1/jobs/" + queued + "?wait_ms=-1").problem(400);
    }

    @Test
    void aRequestWaitingForAJobIsAnsweredWhenTheJobIsCancelled() throws Exception {
        long id = submit("http://example.com/cancel-me");
        Future<Response> waiting = Executors.newVirtualThreadPerTaskExecutor()
                .submit(() -> get("/api/v1/jobs/" + id + "?wait_ms=20000"));
        awaitHeldLongPoll();
        assertThat(post("/api/v1/jobs/" + id + "/cancel").status()).isEqualTo(200);
        assertThat(waiting.get().json().get("state").asString()).isEqualTo("cancelled");
    }

    private long submit(String url) {
        Response response = postJson("/api/v1/jobs", "{\"url\": \"" + url + "\"}");
        assertThat(response.status()).isEqualTo(201);
        return response.json().get("id").asLong();
    }
}
