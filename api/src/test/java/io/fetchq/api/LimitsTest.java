package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/** Submission limits are settings: beyond them, 413 and nothing written. */
@TestPropertySource(properties = {"fetchq.intake.max-request-size=2KB", "fetchq.intake.max-batch-jobs=3"})
class LimitsTest extends ApiTestBase {

    @Test
    void requestBodyOverTheSizeLimitIsRefusedWith413() {
        String body = "http://example.com/" + "p".repeat(3000) + "\n";
        assertThat(post("/api/v1/batches", "text/plain", body).problem(413).get("detail").asString())
                .contains("fetchq.intake.max-request-size");
        assertThat(writtenRows()).isZero();
    }

    @Test
    void batchOverTheJobLimitIsRefusedWith413InEveryShape() {
        post("/api/v1/batches", "text/plain", "http://e.com/1\nhttp://e.com/2\nhttp://e.com/3\nhttp://e.com/4\n")
                .problem(413);
        postJson("/api/v1/batches", "{\"urls\": [\"http://e.com/1\", \"http://e.com/2\", \"http://e.com/3\", \"http://e.com/4\"]}")
                .problem(413);
        assertThat(writtenRows()).isZero();
        assertThat(post("/api/v1/batches", "text/plain", "http://e.com/1\nhttp://e.com/2\nhttp://e.com/3\n").status())
                .isEqualTo(201);
    }
}
