package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The OpenAPI description covers every call, parameter and field, with the problems each call may answer. */
class OpenApiTest extends ApiTestBase {

    @Test
    void everyCallParameterAndFieldIsDocumented() {
        Response docs = get("/v3/api-docs");
        assertThat(docs.status()).isEqualTo(200);
        JsonNode api = docs.json();
        JsonNode paths = api.get("paths");
        assertThat(paths.propertyNames()).contains("/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/jobs/{id}/attempts",
                "/api/v1/jobs/{id}/body", "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/{id}/retry", "/api/v1/batches",
                "/api/v1/batches/{id}", "/api/v1/batches/{id}/results", "/api/v1/batches/{id}/cancel",
                "/api/v1/stats", "/api/v1/urls/parse");

        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, JsonNode> path : paths.properties()) {
            if (!path.getKey().startsWith("/api/")) {
                continue;
            }
            for (Map.Entry<String, JsonNode> operation : path.getValue().properties()) {
                JsonNode op = operation.getValue();
                String where = operation.getKey().toUpperCase() + " " + path.getKey();
                if (!op.has("summary") || !op.has("description")) {
                    missing.add(where + ": summary or description");
                }
                boolean problem = false;
                for (Map.Entry<String, JsonNode> response : op.get("responses").properties()) {
                    if (response.getKey().matches("[45]\\d\\d")) {
                        problem |= response.getValue().path("content").has("application/problem+json");
                    }
                }
                if (!problem) {
                    missing.add(where + ": a problem+json error response");
                }
                for (JsonNode parameter : op.path("parameters")) {
                    if (!parameter.has("description")) {
                        missing.add(where + ": parameter " + parameter.get("name").asString());
                    }
                }
            }
        }
        for (Map.Entry<String, JsonNode> schema : api.get("components").get("schemas").properties()) {
            for (Map.Entry<String, JsonNode> property : schema.getValue().path("properties").properties()) {
                if (!property.getValue().has("description")) {
                    missing.add("schema " + schema.getKey() + ": field " + property.getKey());
                }
            }
        }
        assertThat(missing).as("undocumented").isEmpty();

        JsonNode job = api.get("components").get("schemas").get("JobResource").get("properties");
        assertThat(job.propertyNames()).as("fields as the API writes them").contains("batch_id", "max_attempts", "next_attempt_at");
        JsonNode request = api.get("components").get("schemas").get("JobRequest").get("properties");
        assertThat(request.propertyNames()).contains("url", "idempotency_key", "max_body_bytes", "body_base64");
        JsonNode submit = paths.get("/api/v1/jobs").get("post").get("requestBody").get("content").get("application/json");
        assertThat(submit.has("example") || submit.has("examples")).as("an example in %s", submit).isTrue();
        assertThat(submit.toString()).contains("idempotency_key");
    }

    @Test
    void swaggerUiIsServed() {
        assertThat(get("/swagger-ui/index.html").status()).isEqualTo(200);
    }
}
