package io.fetchq.worker.webhook;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How workers send webhook deliveries. Every field is {@code fetchq.webhooks.*}.
 *
 * @param enabled this worker sends deliveries. Default true.
 * @param pollInterval how often a worker looks for due deliveries. Default 1s.
 * @param maxInFlight deliveries one worker sends at once. Default 32.
 * @param timeout the whole of one delivery attempt, connect to last byte. Default 15s.
 * @param disableAfter an endpoint whose every attempt failed for this long is disabled. Default 5d.
 */
@Validated
@ConfigurationProperties("fetchq.webhooks")
public record WebhookProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("1s") @NotNull Duration pollInterval,
        @DefaultValue("32") @Min(1) @Max(1000) int maxInFlight,
        @DefaultValue("15s") @NotNull Duration timeout,
        @DefaultValue("5d") @NotNull Duration disableAfter) {

    public WebhookProperties {
        for (Duration d : new Duration[] {pollInterval, timeout, disableAfter}) {
            if (d != null && (d.isZero() || d.isNegative())) {
                throw new IllegalArgumentException("fetchq.webhooks durations must be positive");
            }
        }
    }
}
