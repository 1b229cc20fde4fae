package io.fetchq.worker.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When a failed delivery is sent again: the schedule ±10%, a Retry-After obeyed up to 10 h, none after the eighth. */
class RetryScheduleTest {

    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    private static Duration after(int attempt, Long retryAfterMs) {
        return Duration.between(NOW, WebhookSender.nextAttempt(attempt, NOW, retryAfterMs));
    }

    @Test
    void eachAttemptHasItsDelayWithinTenPercent() {
        Duration[] expected = {Duration.ofSeconds(5), Duration.ofMinutes(5), Duration.ofMinutes(30), Duration.ofHours(2),
            Duration.ofHours(5), Duration.ofHours(10), Duration.ofHours(10)};
        for (int attempt = 1; attempt <= 7; attempt++) {
            Duration d = expected[attempt - 1];
            assertThat(after(attempt, null)).as("after attempt %d", attempt)
                    .isBetween(d.multipliedBy(9).dividedBy(10), d.multipliedBy(11).dividedBy(10));
        }
        assertThat(WebhookSender.nextAttempt(8, NOW, null)).as("the eighth was the last").isNull();
    }

    @Test
    void aRetryAfterIsNeverAnsweredSoonerAndIsCappedAtTenHours() {
        assertThat(after(1, 60_000L)).isEqualTo(Duration.ofMinutes(1));
        assertThat(after(3, 1_000L)).as("the schedule's delay when longer").isGreaterThan(Duration.ofMinutes(26));
        assertThat(after(1, Long.MAX_VALUE)).isEqualTo(Duration.ofHours(10));
    }
}
