package io.fetchq.worker.retry;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.fetch.BodyBudget;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.HttpFetcher;
import io.fetchq.worker.fetch.Timings;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** What a retryable answer means, with the server's {@code Retry-After} as it may really come. */
class RetryPolicyTest {

    /** Defaults: backoff 1 s ± 20 % for a first attempt, Retry-After capped at 1 h. */
    private final RetryPolicy policy = new RetryPolicy(new Binder(new MapConfigurationPropertySource(Map.of()))
            .bindOrCreate("fetchq.worker", WorkerProperties.class));

    private static FetchOutcome tooMany(Long retryAfterMs) {
        return new FetchOutcome.Response(429, "text/plain", new byte[0], false, "http://example.com/", retryAfterMs,
                List.of(), new Timings(null, null, null, null, 1, null), BodyBudget.unlimited().none(), null, null);
    }

    private RetryPolicy.Decision.Retry decide(Long retryAfterMs) {
        return (RetryPolicy.Decision.Retry) policy.decide(tooMany(retryAfterMs), 1, true);
    }

    @Test
    void aRetryAfterOfZeroOrInThePastWaitsAtLeastTheBackoff() {
        Clock now = Clock.fixed(Instant.parse("2026-12-04T12:00:00Z"), ZoneOffset.UTC);
        for (Long asked : new Long[] {HttpFetcher.retryAfterMs("0", now),
                HttpFetcher.retryAfterMs("Fri, 04 Dec 2026 11:00:00 GMT", now)}) {
            assertThat(asked).isZero();
            RetryPolicy.Decision.Retry retry = decide(asked);
            assertThat(retry.delayMs()).as("never at once").isBetween(800L, 1200L);
            assertThat(retry.hostPauseMs()).as("no pause asked for").isZero();
        }
    }

    @Test
    void aRetryAfterLongerThanTheBackoffIsHonouredAndPausesTheHost() {
        RetryPolicy.Decision.Retry retry = decide(HttpFetcher.retryAfterMs("120", Clock.systemUTC()));
        assertThat(retry.delayMs()).isEqualTo(120_000);
        assertThat(retry.hostPauseMs()).isEqualTo(120_000);
    }

    @Test
    void aRetryAfterTooLongToCountInMillisecondsIsCappedNotNegative() {
        Long asked = HttpFetcher.retryAfterMs("99999999999999999", Clock.systemUTC());
        assertThat(asked).isPositive();
        RetryPolicy.Decision.Retry retry = decide(asked);
        assertThat(retry.delayMs()).as("the 1 h cap").isEqualTo(3_600_000);
        assertThat(retry.hostPauseMs()).isEqualTo(3_600_000);
        assertThat(HttpFetcher.retryAfterMs("123456789012345678901234567890", Clock.systemUTC())).isPositive();
    }

    @Test
    void aRetryAfterThatIsNeitherSecondsNorADateIsIgnored() {
        for (String odd : List.of("-5", "1.5", "soon", "")) {
            assertThat(HttpFetcher.retryAfterMs(odd, Clock.systemUTC())).as(odd).isNull();
        }
        assertThat(decide(null).delayMs()).isBetween(800L, 1200L);
    }
}
