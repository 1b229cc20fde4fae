package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class BatchApiTest extends ApiTestBase {

    @Test
    void jsonJobsBatchAppliesDefaultsAndPerJobOverrides() {
        Response created = postJson("/api/v1/batches", """
                {"defaults": {"priority": 5, "max_attempts": 4, "headers": {"Accept": "text/html", "X-A": "1"},
                              "metadata": {"run": "r1", "shared": true}, "extract": ["title"]},
                 "jobs": [
                   {"url": "http://example.com/1"},
                   {"url": "http://example.com/2", "priority": -1, "headers": {"accept": "application/json"},
                    "metadata": {"run": "r2", "id": 2}, "idempotency_key": "batch-job-2"}
                 ]}""");
        assertThat(created.status()).isEqualTo(201);
        JsonNode batch = created.json();
        long id = batch.get("id").asLong();
        assertThat(created.location()).isEqualTo("/api/v1/batches/" + id);
        assertThat(batch.get("total").asInt()).isEqualTo(2);
        assertThat(batch.get("queued").asInt()).isEqualTo(2);
        assertThat(batch.get("done").asBoolean()).isFalse();

        List<Map<String, Object>> jobs = sql.sql("""
                SELECT r.url, r.priority, r.max_attempts, j.headers::text AS headers, r.metadata::text AS metadata,
                       j.extract::text AS extract, r.state
                FROM fetchq.job_results r JOIN fetchq.job j ON j.id = r.job_id
                WHERE r.batch_id = :id ORDER BY r.job_id""").param("id", id).query().listOfRows();
        assertThat(jobs).hasSize(2);
        assertThat(jobs.get(0)).containsEntry("priority", 5).containsEntry("max_attempts", 4)
                .containsEntry("state", "queued").containsEntry("extract", "{title}");
        assertThat((String) jobs.get(0).get("metadata")).contains("\"run\": \"r1\"");
        assertThat(jobs.get(1)).containsEntry("priority", -1);
        assertThat((String) jobs.get(1).get("headers")).contains("\"accept\": \"application/json\"")
                .contains("\"X-A\": \"1\"").doesNotContain("text/html");
        assertThat((String) jobs.get(1).get("metadata")).contains("\"run\": \"r2\"").contains("\"shared\": true")
                .contains("\"id\": 2");

        var progress = sql.sql("SELECT total, queued, running, done FROM fetchq.batch_progress WHERE batch_id = :id")
                .param("id", id).query().singleRow();
        assertThat(progress).containsEntry("total", 2).containsEntry("queued", 2L).containsEntry("done", false);
    }

    @Test
    void jsonUrlsBatchAndTextBatchTakeTheirDefaults() {
        Response urls = postJson("/api/v1/batches",
                "{\"defaults\": {\"timeout_ms\": 1500}, \"urls\": [\"http://example.com/a\", \"http://example.com/b\"]}");
        assertThat(urls.status()).isEqualTo(201);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job WHERE batch_id = :id AND timeout_ms = 1500")
                .param("id", urls.json().get("id").asLong()).query(Long.class).single()).isEqualTo(2);

        Response text = post("/api/v1/batches?priority=3&max_attempts=2&extract=title,links&store_body=false"
                        + "&header=X-Team:%20crawl&metadata=%7B%22src%22%3A%22file%22%7D",
                "text/plain", "# my list\r\nhttp://example.com/1\r\n\r\n   http://example.com/2  \n#end\n");
        assertThat(text.status()).isEqualTo(201);
        long id = text.json().get("id").asLong();
        assertThat(text.json().get("total").asInt()).isEqualTo(2);
        List<Map<String, Object>> jobs = sql.sql("""
                SELECT url, priority, max_attempts, store_body, extract::text AS extract,
                       headers->>'X-Team' AS team, metadata->>'src' AS src
                FROM fetchq.job WHERE batch_id = :id ORDER BY id""").param("id", id).query().listOfRows();
        assertThat(jobs).extracting(r -> r.get("url")).containsExactly("http://example.com/1", "http://example.com/2");
        assertThat(jobs.getFirst()).containsEntry("priority", 3).containsEntry("max_attempts", 2)
                .containsEntry("store_body", false).containsEntry("extract", "{title,links}")
                .containsEntry("team", "crawl").containsEntry("src", "file");
    }

    @Test
    void batchProgressCountsStatesAndWaitReturnsWhenDone() throws Exception {
        long id = postJson("/api/v1/batches", "{\"urls\": [\"http://e.com/1\", \"http://e.com/2\", \"http://e.com/3\"]}")
                .json().get("id").asLong();
        List<Long> jobs = jobIdsOf(id);
        markRunning(jobs.get(0));
        finish(jobs.get(1), "completed", 200, null);
        JsonNode batch = get("/api/v1/batches/" + id).json();
        assertThat(batch.get("queued").asInt()).isEqualTo(1);
        assertThat(batch.get("running").asInt()).isEqualTo(1);
        assertThat(batch.get("completed").asInt()).isEqualTo(1);
        assertThat(batch.get("done").asBoolean()).isFalse();
        assertThat(get("/api/v1/batches/" + id + "?wait_ms=30").json().get("done").asBoolean()).isFalse();

        Future<Response> waiting = Executors.newVirtualThreadPerTaskExecutor()
                .submit(() -> get("/api/v1/batches/" + id + "?wait_ms=20000"));
        awaitHeldLongPoll();
        assertThat(waiting).as("held while the batch is not done").isNotDone();
        finish(jobs.get(0), "failed", null, "timeout");
        finish(jobs.get(2), "completed", 404, null);
        JsonNode done = waiting.get().json();
        assertThat(done.get("done").asBoolean()).isTrue();
        assertThat(done.get("completed").asInt()).isEqualTo(2);
        assertThat(done.get("failed").asInt()).isEqualTo(1);
        assertThat(done.get("finished_at").isNull()).isFalse();
    }

    @Test
    void cancellingABatchCancelsQueuedJobsAndFlagsRunningOnes() {
        long id = postJson("/api/v1/batches", "{\"urls\": [\"http://e.com/1\", \"http://e.com/2\", \"http://e.com/3\"]}")
                .json().get("id").asLong();
        List<Long> jobs = jobIdsOf(id);
        markRunning(jobs.get(0));
        finish(jobs.get(1), "completed", 200, null);

        JsonNode batch = post("/api/v1/batches/" + id + "/cancel").json();
        assertThat(batch.get("cancelled").asInt()).isEqualTo(1);
        assertThat(batch.get("running").asInt()).isEqualTo(1);
        assertThat(batch.get("completed").asInt()).isEqualTo(1);
        assertThat(sql.sql("SELECT cancel_requested FROM fetchq.queue WHERE job_id = :id").param("id", jobs.get(0))
                .query(Boolean.class).single()).isTrue();
        post("/api/v1/batches/987654/cancel").problem(404);
        get("/api/v1/batches/987654").problem(404);
    }

    @Test
    void batchWithATakenIdempotencyKeyIsRefusedWhole() {
        postJson("/api/v1/jobs", "{\"url\": \"http://e.com/x\", \"idempotency_key\": \"k1\"}");
        long before = writtenRows();
        JsonNode problem = postJson("/api/v1/batches", """
                {"jobs": [{"url": "http://e.com/1"}, {"url": "http://e.com/2", "idempotency_key": "k1"}]}""")
                .problem(409);
        assertThat(problem.get("detail").asString()).contains("jobs 1");
        assertThat(writtenRows()).isEqualTo(before);
    }

    @Test
    void aHundredThousandLineTextBatchIsAcceptedInOneRequest() {
        int lines = 100_000;
        StringBuilder body = new StringBuilder(lines * 40);
        for (int i = 0; i < lines; i++) {
            body.append("https://host").append(i % 1000).append(".example/page/").append(i).append('\n');
        }
        long started = System.nanoTime();
        Response created = post("/api/v1/batches", "text/plain", body.toString());
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.println("POST /api/v1/batches with " + lines + " text/plain URLs took " + millis + " ms");

        assertThat(created.status()).isEqualTo(201);
        long id = created.json().get("id").asLong();
        assertThat(created.json().get("total").asInt()).isEqualTo(lines);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.job_results WHERE batch_id = :id AND state = 'queued'")
                .param("id", id).query(Long.class).single()).isEqualTo(lines);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.queue").query(Long.class).single()).isEqualTo(lines);
        assertThat(get("/api/v1/batches/" + id).json().get("queued").asInt()).isEqualTo(lines);
        // Submission order is id order.
        assertThat(sql.sql("SELECT url FROM fetchq.job WHERE batch_id = :id ORDER BY id LIMIT 1 OFFSET 99999")
                .param("id", id).query(String.class).single()).isEqualTo("https://host999.example/page/99999");
    }

    @Test
    void oneJobMoreThanTheBatchLimitIsRefusedWith413() {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i <= 100_000; i++) {
            body.append("http://e.com/").append(i).append('\n');
        }
        JsonNode problem = post("/api/v1/batches", "text/plain", body.toString()).problem(413);
        assertThat(problem.get("detail").asString()).contains("100001").contains("fetchq.intake.max-batch-jobs");
        assertThat(writtenRows()).isZero();
    }

    private List<Long> jobIdsOf(long batchId) {
        return sql.sql("SELECT id FROM fetchq.job WHERE batch_id = :id ORDER BY id").param("id", batchId)
                .query(Long.class).list();
    }
}
