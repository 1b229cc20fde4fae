package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Schedules over REST, with the API's own schedule runner (every API process runs due schedules)
 * making the runs on the real clock.
 */
class ScheduleApiTest extends ApiTestBase {

    private long batchesOf(long schedule) {
        return sql.sql("SELECT count(*) FROM fetchq.batch WHERE schedule_id = :id").param("id", schedule)
                .query(Long.class).single();
    }

    private void awaitBatches(long schedule, long atLeast) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (batchesOf(schedule) < atLeast) {
            assertThat(System.nanoTime()).as("%d runs of schedule %d", atLeast, schedule).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    void aScheduleRunsItsJobsAsBatchesAndShowsItsLastRun() {
        Response created = postJson("/api/v1/schedules", """
                {"name": "uptime", "every": "PT1S", "defaults": {"max_attempts": 2, "extract": ["title"]},
                 "urls": ["http://example.com/a", "http://example.com/b"]}""");
        assertThat(created.status()).isEqualTo(201);
        JsonNode s = created.json();
        long id = s.get("id").asLong();
        assertThat(created.location()).isEqualTo("/api/v1/schedules/" + id);
        assertThat(s.get("every").asString()).isEqualTo("PT1S");
        assertThat(s.get("time_zone").asString()).isEqualTo("UTC");
        assertThat(s.get("catch_up").asString()).isEqualTo("skip");
        assertThat(s.get("job_count").asInt()).isEqualTo(2);
        assertThat(s.get("cron").isNull()).isTrue();

        awaitBatches(id, 2);
        JsonNode read = get("/api/v1/schedules/" + id).json();
        long lastBatch = read.get("last_batch_id").asLong();
        JsonNode batch = get("/api/v1/batches/" + lastBatch).json();
        assertThat(batch.get("schedule_id").asLong()).isEqualTo(id);
        assertThat(batch.get("total").asInt()).isEqualTo(2);
        assertThat(batch.get("nominal_time").asString()).isNotBlank();
        // A schedule's GETs are conditional unless they say otherwise: each run checks the same URLs again.
        assertThat(sql.sql("""
                SELECT count(*) FROM fetchq.job WHERE batch_id = :b AND max_attempts = 2 AND extract = '{title}'
                                                   AND conditional""")
                .param("b", lastBatch).query(Long.class).single()).isEqualTo(2);
        // Runs are a second apart on the grid from the schedule's creation, one batch each.
        assertThat(sql.sql("""
                SELECT count(*) = count(DISTINCT nominal_time) FROM fetchq.batch WHERE schedule_id = :id""")
                .param("id", id).query(Boolean.class).single()).isTrue();
        assertThat(get("/api/v1/schedules").json()).hasSize(1);
        assertThat(sql.sql("SELECT last_batch_id FROM fetchq.schedules WHERE schedule_id = :id").param("id", id)
                .query(Long.class).single()).isNotNull();

        // Paused: no runs, no next time; deleted: gone, its batches kept.
        JsonNode paused = post("/api/v1/schedules/" + id + "/pause").json();
        assertThat(paused.get("paused").asBoolean()).isTrue();
        assertThat(paused.get("next_run_at").isNull()).isTrue();
        long runsWhenPaused = batchesOf(id);
        Response manual = post("/api/v1/schedules/" + id + "/run");
        assertThat(manual.status()).isEqualTo(201);
        assertThat(manual.json().get("schedule_id").asLong()).isEqualTo(id);
        assertThat(batchesOf(id)).isEqualTo(runsWhenPaused + 1);
        assertThat(delete("/api/v1/schedules/" + id).status()).isEqualTo(204);
        assertThat(get("/api/v1/schedules/" + id).status()).isEqualTo(404);
        assertThat(batchesOf(id)).isEqualTo(runsWhenPaused + 1);
    }

    @Test
    void aCronScheduleInATimeZoneAndItsChanges() {
        Response created = postJson("/api/v1/schedules", """
                {"name": "nightly", "cron": "30 2 * * *", "time_zone": "Europe/Berlin", "catch_up": "one",
                 "paused": true, "jobs": [{"url": "http://example.com/x", "priority": 3}]}""");
        assertThat(created.status()).isEqualTo(201);
        long id = created.json().get("id").asLong();
        assertThat(created.json().get("paused").asBoolean()).isTrue();

        JsonNode changed = patchJson("/api/v1/schedules/" + id, """
                {"name": "hourly", "cron": "@hourly", "catch_up": "all", "paused": false,
                 "urls": ["http://example.com/y", "http://example.com/z"]}""").json();
        assertThat(changed.get("name").asString()).isEqualTo("hourly");
        assertThat(changed.get("cron").asString()).isEqualTo("@hourly");
        assertThat(changed.get("catch_up").asString()).isEqualTo("all");
        assertThat(changed.get("job_count").asInt()).isEqualTo(2);
        assertThat(changed.get("next_run_at").asString()).matches(".*T\\d\\d:00:00Z");
        assertThat(sql.sql("SELECT url FROM fetchq.schedule_job WHERE schedule_id = :id ORDER BY position")
                .param("id", id).query(String.class).list()).containsExactly("http://example.com/y", "http://example.com/z");

        JsonNode every = patchJson("/api/v1/schedules/" + id, "{\"every\": \"PT10M\"}").json();
        assertThat(every.get("cron").isNull()).isTrue();
        assertThat(every.get("every").asString()).isEqualTo("PT10M");
    }

    @Test
    void badSchedulesAreRefusedNamingEachFieldAndWriteNothing() {
        Response bad = postJson("/api/v1/schedules", """
                {"name": "", "cron": "0 0 * * * *", "time_zone": "Mars/Olympus", "catch_up": "sometimes",
                 "paused": "yes", "jobs": [{"url": "http://example.com/", "idempotency_key": "k", "delay_ms": 5}],
                 "surprise": 1}""");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.contentType()).startsWith("application/problem+json");
        List<String> pointers = bad.json().get("errors").valueStream().map(e -> e.get("pointer").asString()).toList();
        assertThat(pointers).contains("/name", "/catch_up", "/paused", "/jobs/0/idempotency_key", "/jobs/0/delay_ms",
                "/surprise");
        assertThat(postJson("/api/v1/schedules", "{\"name\": \"n\", \"every\": \"PT0.1S\", \"urls\": [\"http://e.com/\"]}")
                .json().get("errors").get(0).get("pointer").asString()).isEqualTo("/every");
        assertThat(postJson("/api/v1/schedules", "{\"name\": \"n\", \"cron\": \"0 0 30 2 *\", \"urls\": [\"http://e.com/\"]}")
                .json().get("errors").get(0).get("detail").asString()).contains("never");
        assertThat(postJson("/api/v1/schedules", "{\"name\": \"n\", \"cron\": \"* * * * *\", \"time_zone\": \"Nowhere/City\","
                + " \"urls\": [\"http://e.com/\"]}").json().get("errors").get(0).get("pointer").asString()).isEqualTo("/time_zone");
        assertThat(postJson("/api/v1/schedules", "{\"name\": \"n\", \"urls\": [\"http://e.com/\"]}").status()).isEqualTo(400);
        assertThat(postJson("/api/v1/schedules", "{\"name\": null, \"every\": \"PT1M\", \"urls\": [\"http://e.com/\"]}")
                .json().get("errors").get(0).get("pointer").asString()).isEqualTo("/name");
        assertThat(postJson("/api/v1/schedules", "{\"name\": \"n\", \"cron\": null, \"urls\": [\"http://e.com/\"]}").status())
                .isEqualTo(400);
        assertThat(postJson("/api/v1/schedules", "{\"name\": \"n\", \"every\": \"P200000D\", \"urls\": [\"http://e.com/\"]}")
                .json().get("errors").get(0).get("detail").asString()).contains("at most 366 days");
        assertThat(postJson("/api/v1/schedules", "{\"name\": \"n\", \"every\": \"PT1M\", \"cron\": \"* * * * *\","
                + " \"urls\": [\"http://e.com/\"]}").status()).isEqualTo(400);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.schedule").query(Long.class).single()).isZero();
        assertThat(get("/api/v1/schedules/12345").status()).isEqualTo(404);
        assertThat(patchJson("/api/v1/schedules/12345", "{\"name\": \"x\"}").status()).isEqualTo(404);
    }
}
