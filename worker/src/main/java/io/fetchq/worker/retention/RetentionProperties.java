package io.fetchq.worker.retention;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How long history is kept. Every field is {@code fetchq.retention.*}; every worker applies it.
 *
 * @param enabled delete finished jobs once they are older than {@code finished-jobs}. Default true.
 * @param finishedJobs how long a finished (completed, failed or cancelled) job is kept after it
 *     finished, with its attempts and stored body. Default 30d. Batches go once all their jobs have.
 * @param interval how often a worker looks for history to delete. Default 5m.
 * @param batchSize jobs deleted per statement; a pass runs statements until none are left.
 *     Default 5,000.
 */
@Validated
@ConfigurationProperties("fetchq.retention")
public record RetentionProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("30d") @NotNull Duration finishedJobs,
        @DefaultValue("5m") @NotNull Duration interval,
        @DefaultValue("5000") @Min(1) @Max(100_000) int batchSize) {

    public RetentionProperties {
        if (finishedJobs != null && finishedJobs.isNegative()) {
            throw new IllegalArgumentException("fetchq.retention.finished-jobs must not be negative");
        }
        if (interval != null && (interval.isZero() || interval.isNegative())) {
            throw new IllegalArgumentException("fetchq.retention.interval must be positive");
        }
    }
}
