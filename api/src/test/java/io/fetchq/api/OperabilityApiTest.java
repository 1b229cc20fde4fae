package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/** The calls that show what fetchq is doing: results export, stats, URL parsing. */
class OperabilityApiTest extends ApiTestBase {

    @Autowired
    private DataSource dataSource;

    /** A batch of three: one completed (title with a comma, quotes and a formula), one failed, one queued. */
    private long[] batchOfThree() {
        JsonNode batch = post("/api/v1/batches", "text/plain", "https://a.example/1\nhttps://b.example/2\nhttps://c.example/3\n")
                .json();
        long id = batch.get("id").asLong();
        List<Long> jobs = sql.sql("SELECT id FROM fetchq.job WHERE batch_id = ? ORDER BY id").param(id)
                .query(Long.class).list();
        finish(jobs.get(0), "completed", 200, null);
        sql.sql("UPDATE fetchq.job SET title = ?, links = '[\"https://a.example/x\"]' WHERE id = ?")
                .param("=Sales, \"Q3\"").param(jobs.get(0)).update();
        finish(jobs.get(1), "failed", null, "dns");
        return new long[] {id, jobs.get(0), jobs.get(1), jobs.get(2)};
    }

    @Test
    void aReadTheDatabaseCannotAnswerInTimeIsA503ProblemAndChangesNothing() throws Exception {
        long id = postJson("/api/v1/jobs", "{\"url\": \"https://example.com/locked\"}").json().get("id").asLong();
        long rows = writtenRows();
        try (Connection locker = dataSource.getConnection(); Statement s = locker.createStatement()) {
            locker.setAutoCommit(false);
            s.execute("LOCK TABLE fetchq.job IN ACCESS EXCLUSIVE MODE");
            long started = System.nanoTime();
            Response response = get("/api/v1/jobs/" + id);
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            locker.rollback();

            assertThat(response.status()).isEqualTo(503);
            assertThat(response.contentType()).startsWith("application/problem+json");
            assertThat(response.json().get("detail").asString()).contains("fetchq.db.read-timeout");
            assertThat(tookMs).as("answered at the read timeout, not held").isLessThan(10_000);
        }
        assertThat(writtenRows()).isEqualTo(rows);
        assertThat(get("/api/v1/jobs/" + id).status()).isEqualTo(200);
    }

    @Test
    void resultsStreamAsNdjsonInJobOrder() {
        long[] b = batchOfThree();
        Response response = get("/api/v1/batches/" + b[0] + "/results");
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.contentType()).startsWith("application/x-ndjson");
        List<JsonNode> lines = response.body().lines().map(JSON::readTree).toList();
        assertThat(lines).extracting(l -> l.get("job_id").asLong()).containsExactly(b[1], b[2], b[3]);
        assertThat(lines).extracting(l -> l.get("state").asString()).containsExactly("completed", "failed", "queued");
        assertThat(lines.get(0).get("status_code").asInt()).isEqualTo(200);
        assertThat(lines.get(0).get("title").asString()).isEqualTo("=Sales, \"Q3\"");
        assertThat(lines.get(0).get("links").get(0).asString()).isEqualTo("https://a.example/x");
        assertThat(lines.get(1).get("error_kind").asString()).isEqualTo("dns");
        assertThat(lines.get(2).get("status_code").isNull()).isTrue();
        assertThat(lines.get(0).get("url").asString()).isEqualTo("https://a.example/1");
    }

    @Test
    void resultsFilterByStateAndChooseFields() {
        long[] b = batchOfThree();
        Response failed = get("/api/v1/batches/" + b[0] + "/results?state=failed&fields=job_id,error_kind");
        List<String> lines = failed.body().lines().toList();
        assertThat(lines).hasSize(1);
        JsonNode line = JSON.readTree(lines.getFirst());
        assertThat(line.propertyNames()).containsExactly("job_id", "error_kind");
        assertThat(line.get("job_id").asLong()).isEqualTo(b[2]);
    }

    @Test
    void resultsAsCsvQuoteTextAndDefuseFormulas() {
        long[] b = batchOfThree();
        Response csv = get("/api/v1/batches/" + b[0] + "/results?format=csv&fields=job_id,state,title,status_code");
        assertThat(csv.status()).isEqualTo(200);
        assertThat(csv.contentType()).startsWith("text/csv");
        assertThat(csv.body()).isEqualTo("job_id,state,title,status_code\r\n"
                + b[1] + ",completed,\"'=Sales, \"\"Q3\"\"\",200\r\n"
                + b[2] + ",failed,,\r\n"
                + b[3] + ",queued,,\r\n");
        Response byAccept = get("/api/v1/batches/" + b[0] + "/results?fields=job_id", "Accept", "text/csv");
        assertThat(byAccept.contentType()).startsWith("text/csv");
        assertThat(byAccept.body()).startsWith("job_id\r\n" + b[1] + "\r\n");
    }

    @Test
    void badExportRequestsAreRefused() {
        long[] b = batchOfThree();
        String base = "/api/v1/batches/" + b[0] + "/results";
        assertThat(get(base + "?fields=job_id,nope").problem(400).get("errors").get(0).get("parameter").asString())
                .isEqualTo("fields");
        assertThat(get(base + "?state=done").problem(400).get("errors").get(0).get("parameter").asString())
                .isEqualTo("state");
        assertThat(get(base + "?format=xml").problem(400).get("errors").get(0).get("parameter").asString())
                .isEqualTo("format");
        get("/api/v1/batches/" + (b[0] + 1000) + "/results").problem(404);
    }

    @Test
    void statsCountJobsByStateLagAndWorkers() {
        JsonNode empty = get("/api/v1/stats").json();
        assertThat(empty.get("jobs").get("queued").asLong()).isZero();
        assertThat(empty.get("oldest_due_age_ms").asLong()).isZero();
        assertThat(empty.get("live_workers").asLong()).isZero();

        long[] b = batchOfThree();
        long running = post("/api/v1/jobs", "application/json", "{\"url\": \"https://d.example/\"}").json().get("id").asLong();
        markRunning(running);
        sql.sql("UPDATE fetchq.queue SET run_at = now() - interval '5 seconds' WHERE job_id = ?").param(b[3]).update();
        sql.sql("INSERT INTO fetchq.worker (worker_id, hostname, state) VALUES ('w1', 'h', 'running'), ('w2', 'h', 'lost')")
                .update();

        JsonNode stats = get("/api/v1/stats").json();
        JsonNode jobs = stats.get("jobs");
        assertThat(jobs.get("queued").asLong()).isEqualTo(1);
        assertThat(jobs.get("running").asLong()).isEqualTo(1);
        assertThat(jobs.get("completed").asLong()).isEqualTo(1);
        assertThat(jobs.get("failed").asLong()).isEqualTo(1);
        assertThat(jobs.get("cancelled").asLong()).isZero();
        assertThat(stats.get("oldest_due_age_ms").asLong()).isGreaterThanOrEqualTo(5000);
        assertThat(stats.get("completions_per_second").asDouble()).isEqualTo(0.03);
        assertThat(stats.get("workers").get("running").asLong()).isEqualTo(1);
        assertThat(stats.get("workers").get("lost").asLong()).isEqualTo(1);
        assertThat(stats.get("live_workers").asLong()).isEqualTo(1);
    }

    @Test
    void urlParseShowsTheNormalisedUrlItsPartsAndThePolicy() {
        JsonNode ok = get("/api/v1/urls/parse?url=HTTP://Example.COM:80/a/../b?x=1").json();
        assertThat(ok.get("input").asString()).isEqualTo("HTTP://Example.COM:80/a/../b?x=1");
        assertThat(ok.get("url").asString()).isEqualTo("http://example.com/b?x=1");
        assertThat(ok.get("scheme").asString()).isEqualTo("http");
        assertThat(ok.get("host").asString()).isEqualTo("example.com");
        assertThat(ok.get("port").asInt()).isEqualTo(80);
        assertThat(ok.get("path").asString()).isEqualTo("/b");
        assertThat(ok.get("query").asString()).isEqualTo("x=1");
        assertThat(ok.get("allowed").asBoolean()).isTrue();
        assertThat(ok.get("reason").isNull()).isTrue();

        JsonNode blocked = get("/api/v1/urls/parse?url=http://0x7f.1/").json();
        assertThat(blocked.get("host").asString()).isEqualTo("127.0.0.1");
        assertThat(blocked.get("allowed").asBoolean()).isFalse();
        assertThat(blocked.get("reason").asString()).isNotBlank();

        JsonNode invalid = get("/api/v1/urls/parse?url=ftp://example.com/").json();
        assertThat(invalid.get("url").isNull()).isTrue();
        assertThat(invalid.get("allowed").asBoolean()).isFalse();
        assertThat(invalid.get("reason").asString()).isNotBlank();

        long before = writtenRows();
        assertThat(get("/api/v1/urls/parse").problem(400).get("errors").get(0).get("parameter").asString())
                .isEqualTo("url");
        assertThat(writtenRows()).isEqualTo(before);
    }

    @Test
    void actuatorShowsHealthInfoAndPrometheusGauges() {
        assertThat(get("/actuator/health/liveness").status()).isEqualTo(200);
        Response readiness = get("/actuator/health/readiness");
        assertThat(readiness.status()).isEqualTo(200);
        assertThat(readiness.json().get("status").asString()).isEqualTo("UP");
        JsonNode info = get("/actuator/info").json();
        assertThat(info.get("build").get("version").asString()).isNotBlank();
        assertThat(info.get("git").get("commit").get("id").asString()).as("git commit in %s", info).isNotBlank();

        batchOfThree();
        String metrics = get("/actuator/prometheus").body();
        assertThat(metrics).containsPattern("(?m)^fetchq_jobs\\{[^}]*state=\"queued\"[^}]*} 1\\.0$")
                .containsPattern("(?m)^fetchq_jobs\\{[^}]*state=\"completed\"[^}]*} 1\\.0$")
                .containsPattern("(?m)^fetchq_jobs\\{[^}]*state=\"failed\"[^}]*} 1\\.0$")
                .containsPattern("(?m)^fetchq_oldest_due_age_seconds\\{[^}]*} ")
                .containsPattern("(?m)^fetchq_workers\\{[^}]*state=\"running\"[^}]*} 0\\.0$")
                .containsPattern("(?m)^http_server_requests_seconds_count\\{");
    }

    @Test
    void batchesListNewestFirstAndHostsShowLoadErrorsAndOpenBreakers() {
        long[] first = batchOfThree();
        long second = post("/api/v1/batches", "text/plain", "https://b.example/9\n").json().get("id").asLong();
        List<JsonNode> batches = new java.util.ArrayList<>();
        get("/api/v1/batches?limit=10").json().forEach(batches::add);
        assertThat(batches).extracting(b -> b.get("id").asLong()).containsExactly(second, first[0]);
        assertThat(batches.get(1).get("completed").asLong()).isEqualTo(1);
        JsonNode older = get("/api/v1/batches?before_id=" + second).json();
        assertThat(older.size()).isEqualTo(1);
        get("/api/v1/batches?limit=0").problem(400);

        sql.sql("INSERT INTO fetchq.host (host, breaker, open_until) VALUES ('b.example', 'open', now() + interval '1 minute')")
                .update();
        List<JsonNode> hosts = new java.util.ArrayList<>();
        get("/api/v1/hosts").json().forEach(hosts::add);
        JsonNode b = hosts.stream().filter(h -> h.get("host").asString().equals("b.example")).findFirst().orElseThrow();
        assertThat(b.get("queued").asLong()).isEqualTo(1);
        assertThat(b.get("finished").asLong()).isEqualTo(1);
        assertThat(b.get("failed").asLong()).isEqualTo(1);
        assertThat(b.get("breaker_open").asBoolean()).isTrue();
        JsonNode a = hosts.stream().filter(h -> h.get("host").asString().equals("a.example")).findFirst().orElseThrow();
        assertThat(a.get("breaker_open").asBoolean()).isFalse();
        assertThat(hosts.getFirst().get("host").asString()).as("busiest first").isIn("b.example", "c.example");
        get("/api/v1/hosts?limit=5000").problem(400);
    }

    @Test
    void hostsShowHowLongTheirOldestDueJobHasWaitedAndWhichAreStuck() {
        for (String host : List.of("stuck", "open", "paused", "busy", "fresh", "later")) {
            post("/api/v1/jobs", "application/json", "{\"url\": \"https://" + host + ".example/\"}");
        }
        long running = post("/api/v1/jobs", "application/json", "{\"url\": \"https://busy.example/2\"}").json()
                .get("id").asLong();
        markRunning(running);
        sql.sql("UPDATE fetchq.queue SET run_at = now() - interval '2 minutes' WHERE state = 'queued' AND host <> 'fresh.example'")
                .update();
        sql.sql("UPDATE fetchq.queue SET run_at = now() + interval '1 hour' WHERE host = 'later.example'").update();
        sql.sql("""
                INSERT INTO fetchq.host (host, breaker, open_until, paused_until)
                VALUES ('open.example', 'open', now() + interval '1 minute', NULL),
                       ('paused.example', 'closed', NULL, now() + interval '1 minute'),
                       ('stuck.example', 'closed', NULL, now() - interval '1 minute')""").update();

        Map<String, JsonNode> hosts = new java.util.HashMap<>();
        get("/api/v1/hosts").json().forEach(h -> hosts.put(h.get("host").asString(), h));
        assertThat(hosts.get("stuck.example").get("oldest_due_age_ms").asLong()).isGreaterThanOrEqualTo(120_000);
        assertThat(hosts.get("fresh.example").get("oldest_due_age_ms").asLong()).isLessThan(60_000);
        assertThat(hosts.get("later.example").get("oldest_due_age_ms").asLong()).as("nothing due").isZero();
        assertThat(hosts.get("paused.example").get("paused").asBoolean()).isTrue();
        assertThat(hosts.get("open.example").get("breaker_open").asBoolean()).isTrue();
        assertThat(hosts.values().stream().filter(h -> h.get("stuck").asBoolean()).map(h -> h.get("host").asString()))
                .as("due for long, none running, held back by nothing (its pause is over)").containsExactly("stuck.example");

        assertThat(get("/api/v1/stats").json().get("stuck_hosts").asLong()).isEqualTo(1);
        String metrics = get("/actuator/prometheus").body();
        assertThat(metrics).containsPattern("(?m)^fetchq_hosts_stuck(\\{[^}]*})? 1\\.0$")
                .containsPattern("(?m)^fetchq_host_oldest_due_age_seconds\\{[^}]*host=\"stuck\\.example\"[^}]*} 1[2-9]\\d\\.");
    }

    @Test
    void anAdminSetsAHostsLimitRateAndPauseForTheWholeFleet() {
        post("/api/v1/jobs", "application/json", "{\"url\": \"https://example.com/a\"}");
        JsonNode set = putJson("/api/v1/hosts/Example.COM", """
                {"max_in_flight": 4, "rate_per_s": 2.5, "paused_until": "2030-01-01T00:00:00Z"}""").json();
        assertThat(set.get("host").asString()).as("the host as jobs carry it").isEqualTo("example.com");
        assertThat(set.get("max_in_flight").asInt()).isEqualTo(4);
        assertThat(set.get("rate_per_s").asDouble()).isEqualTo(2.5);
        assertThat(set.get("paused_until").asString()).startsWith("2030-01-01T00:00");
        assertThat(set.get("breaker").asString()).isEqualTo("closed");
        assertThat(set.get("queued").asLong()).isEqualTo(1);

        JsonNode listed = java.util.stream.StreamSupport.stream(get("/api/v1/hosts").json().spliterator(), false)
                .filter(h -> h.get("host").asString().equals("example.com")).findFirst().orElseThrow();
        assertThat(listed.get("max_in_flight").asInt()).isEqualTo(4);
        assertThat(listed.get("paused").asBoolean()).isTrue();
        assertThat(listed.get("in_flight").asLong()).isZero();
        assertThat(sql.sql("SELECT max_in_flight || ' ' || rate_per_s || ' ' || queued FROM fetchq.hosts WHERE host = 'example.com'")
                .query(String.class).single()).isEqualTo("4 2.5 1");

        JsonNode resumed = putJson("/api/v1/hosts/example.com", "{\"paused_until\": null}").json();
        assertThat(resumed.get("paused_until").isNull()).as("resumed").isTrue();
        assertThat(resumed.get("max_in_flight").asInt()).as("other settings untouched").isEqualTo(4);
        JsonNode defaults = putJson("/api/v1/hosts/example.com", "{\"max_in_flight\": null, \"rate_per_s\": null}").json();
        assertThat(defaults.get("max_in_flight").isNull()).as("the workers' default, none reported yet").isTrue();
        assertThat(defaults.get("rate_per_s").isNull()).isTrue();
        assertThat(get("/api/v1/hosts/example.com").json().get("queued").asLong()).isEqualTo(1);
    }

    @Test
    void badHostSettingsAre400sAndChangeNothing() {
        putJson("/api/v1/hosts/example.com", "{\"max_in_flight\": 4}");
        for (String bad : List.of("{\"max_in_flight\": 0}", "{\"max_in_flight\": 2.5}", "{\"max_in_flight\": \"4\"}",
                "{\"rate_per_s\": 0}", "{\"rate_per_s\": -1}", "{\"paused_until\": \"tomorrow\"}", "{\"bogus\": 1}",
                "{}", "[]", "{\"max_in_flight\": 8, \"rate_per_s\": \"fast\"}")) {
            putJson("/api/v1/hosts/example.com", bad).problem(400);
        }
        for (String host : List.of("example.com:8080", "user@example.com", "a%20b")) {
            putJson("/api/v1/hosts/" + host, "{\"max_in_flight\": 1}").problem(400);
        }
        assertThat(sql.sql("SELECT max_in_flight || '/' || count(*) OVER () FROM fetchq.host").query(String.class).single())
                .as("one host, as it was").isEqualTo("4/1");
    }
}
