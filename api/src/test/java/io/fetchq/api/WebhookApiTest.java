package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Webhook endpoints over REST: the secret shown once, bad input refused naming each field, the delivery log. */
class WebhookApiTest extends ApiTestBase {

    @BeforeEach
    void noEndpoints() {
        sql.sql("TRUNCATE fetchq.webhook, fetchq.event CASCADE").update();
    }

    @Test
    void anEndpointIsCreatedWithItsSecretShownOnceThenReadChangedAndDeleted() {
        Response created = postJson("/api/v1/webhooks", """
                {"url": "HTTPS://Hooks.Example/in", "events": ["batch.completed", "job.failed"], "description": "ops"}""");
        assertThat(created.status()).isEqualTo(201);
        JsonNode hook = created.json();
        long id = hook.get("id").asLong();
        assertThat(created.location()).isEqualTo("/api/v1/webhooks/" + id);
        assertThat(hook.get("secret").asString()).matches("whsec_[A-Za-z0-9+/]{43}=");
        assertThat(hook.get("url").asString()).isEqualTo("https://hooks.example/in");
        assertThat(hook.get("disabled").asBoolean()).isFalse();

        JsonNode read = get("/api/v1/webhooks/" + id).json();
        assertThat(read.has("secret")).as("never shown again").isFalse();
        assertThat(get("/api/v1/webhooks").json()).hasSize(1);

        JsonNode changed = patchJson("/api/v1/webhooks/" + id, "{\"events\": [\"job.changed\"], \"disabled\": true}").json();
        assertThat(changed.get("events").get(0).asString()).isEqualTo("job.changed");
        assertThat(changed.get("disabled").asBoolean()).isTrue();
        assertThat(changed.get("disabled_reason").asString()).isEqualTo("disabled by request");
        JsonNode enabled = patchJson("/api/v1/webhooks/" + id, "{\"disabled\": false}").json();
        assertThat(enabled.get("disabled").asBoolean()).isFalse();
        assertThat(enabled.get("description").asString()).isEqualTo("ops");

        assertThat(get("/api/v1/webhooks/" + id + "/deliveries").json()).isEmpty();
        assertThat(delete("/api/v1/webhooks/" + id).status()).isEqualTo(204);
        get("/api/v1/webhooks/" + id).problem(404);
    }

    @Test
    void badEndpointsAreRefusedNamingEachFieldAndWriteNothing() {
        JsonNode problem = postJson("/api/v1/webhooks", """
                {"url": "http://10.0.0.7/hook", "events": ["batch.completed", "job.exploded"], "colour": "red"}""")
                .problem(400);
        assertThat(problem.get("errors").findValuesAsString("pointer")).contains("/url", "/events/1", "/colour");
        assertThat(problem.toString()).contains("is not allowed");
        postJson("/api/v1/webhooks", "{\"url\": \"https://hooks.example/\"}").problem(400);
        postJson("/api/v1/webhooks", "{\"url\": \"https://hooks.example/\", \"events\": []}").problem(400);
        postJson("/api/v1/webhooks", "{\"events\": [\"job.failed\"]}").problem(400);
        postJson("/api/v1/webhooks", "{\"url\": \"ftp://hooks.example/\", \"events\": [\"job.failed\"]}").problem(400);
        postJson("/api/v1/webhooks", "[]").problem(400);
        postJson("/api/v1/webhooks", "{\"url\": \"https://hooks.example/\", \"events\": [\"job.failed\"], "
                + "\"description\": \"a\\u0000b\"}").problem(400);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.webhook").query(Long.class).single()).isZero();
        get("/api/v1/webhooks?limit=0").problem(400);
        patchJson("/api/v1/webhooks/999", "{\"disabled\": true}").problem(404);
    }

    @Test
    void theDeliveryLogShowsEachAttemptAndADeliveryCanBeSentAgain() {
        long id = postJson("/api/v1/webhooks", """
                {"url": "https://hooks.example/log", "events": ["job.failed"]}""").json().get("id").asLong();
        long event = sql.sql("""
                INSERT INTO fetchq.event (tenant, type, job_id) VALUES ('default', 'job.failed', 12) RETURNING id""")
                .query(Long.class).single();
        long delivery = sql.sql("""
                INSERT INTO fetchq.webhook_delivery (webhook_id, event_id, state, attempts)
                VALUES (:w, :e, 'failed', 2) RETURNING id""").param("w", id).param("e", event).query(Long.class).single();
        sql.sql("""
                INSERT INTO fetchq.webhook_attempt (delivery_id, attempt, status_code, error, started_at, finished_at,
                                                    next_attempt_at)
                VALUES (:d, 1, 500, 'HTTP 500', now(), now(), now() + interval '5 seconds'),
                       (:d, 2, NULL, 'connection refused', now(), now(), NULL)""").param("d", delivery).update();

        JsonNode log = get("/api/v1/webhooks/" + id + "/deliveries").json();
        assertThat(log).hasSize(1);
        assertThat(log.get(0).get("event_type").asString()).isEqualTo("job.failed");
        assertThat(log.get(0).get("state").asString()).isEqualTo("failed");
        assertThat(log.get(0).get("attempts")).hasSize(2);
        assertThat(log.get(0).get("attempts").get(1).get("error").asString()).isEqualTo("connection refused");

        JsonNode retried = post("/api/v1/webhooks/" + id + "/deliveries/" + delivery + "/retry").json();
        assertThat(retried.get("state").asString()).isEqualTo("pending");
        assertThat(retried.get("next_attempt_at").isNull()).isFalse();
        post("/api/v1/webhooks/" + id + "/deliveries/" + (delivery + 100) + "/retry").problem(404);
    }
}
