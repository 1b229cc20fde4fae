package io.fetchq.api;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Limits and defaults applied to submitted jobs. Every limit answers {@code 400} or {@code 413}
 * when exceeded, and a job's defaults are stored with it, so changing them affects only jobs
 * submitted later.
 *
 * @param maxBatchJobs most jobs in one batch request (beyond: 413). Default 100,000; larger
 *     batches hold more memory while they are validated.
 * @param maxRequestSize largest request body accepted by the submit calls (beyond: 413). Default
 *     64MB, room for 100,000 URLs with options.
 * @param maxMetadataSize largest {@code metadata} object, as compact JSON. Default 8KB.
 * @param maxHeadersSize largest total of a job's header names and values. Default 16KB.
 * @param maxHeaders most headers on one job. Default 64.
 * @param maxJobBodySize largest request body a job may send. Default 1MB.
 * @param defaultMaxAttempts attempts a job gets when it names none (1-25). Default 3.
 * @param defaultTimeout whole-call timeout per attempt when a job names none. Default 60s.
 * @param maxTimeout largest {@code timeout_ms} a job may ask for. Default 10m.
 * @param defaultMaxBodySize response bytes stored when a job names no {@code max_body_bytes}.
 *     Default 1MB.
 * @param maxBodySizeCeiling largest {@code max_body_bytes} a job may ask for. Default 64MB;
 *     a worker may hold this much per in-flight fetch.
 * @param maxDelay furthest in the future a job may be scheduled. Default 365d.
 * @param maxPriority priorities run from minus this to this. Default 1,000: one tenant's jobs
 *     cannot be put out of everyone's reach with {@code Integer.MAX_VALUE}.
 */
@Validated
@ConfigurationProperties("fetchq.intake")
public record IntakeProperties(
        @DefaultValue("100000") @Min(1) @Max(1_000_000) int maxBatchJobs,
        @DefaultValue("64MB") @NotNull DataSize maxRequestSize,
        @DefaultValue("8KB") @NotNull DataSize maxMetadataSize,
        @DefaultValue("16KB") @NotNull DataSize maxHeadersSize,
        @DefaultValue("64") @Min(0) @Max(1000) int maxHeaders,
        @DefaultValue("1MB") @NotNull DataSize maxJobBodySize,
        @DefaultValue("3") @Min(1) @Max(25) int defaultMaxAttempts,
        @DefaultValue("60s") @NotNull Duration defaultTimeout,
        @DefaultValue("10m") @NotNull Duration maxTimeout,
        @DefaultValue("1MB") @NotNull DataSize defaultMaxBodySize,
        @DefaultValue("64MB") @NotNull DataSize maxBodySizeCeiling,
        @DefaultValue("365d") @NotNull Duration maxDelay,
        @DefaultValue("1000") @Min(0) @Max(1_000_000) int maxPriority) {

    public IntakeProperties {
        requirePositive("fetchq.intake.max-request-size", maxRequestSize);
        requirePositive("fetchq.intake.max-metadata-size", maxMetadataSize);
        requirePositive("fetchq.intake.max-headers-size", maxHeadersSize);
        requirePositive("fetchq.intake.max-job-body-size", maxJobBodySize);
        if (maxBodySizeCeiling != null && maxBodySizeCeiling.toBytes() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("fetchq.intake.max-body-size-ceiling must be below 2GB");
        }
        if (defaultMaxBodySize != null && maxBodySizeCeiling != null
                && defaultMaxBodySize.compareTo(maxBodySizeCeiling) > 0) {
            throw new IllegalArgumentException(
                    "fetchq.intake.default-max-body-size must not exceed fetchq.intake.max-body-size-ceiling");
        }
        if (defaultTimeout != null && maxTimeout != null
                && (defaultTimeout.isNegative() || defaultTimeout.isZero() || defaultTimeout.compareTo(maxTimeout) > 0)) {
            throw new IllegalArgumentException(
                    "fetchq.intake.default-timeout must be positive and not exceed fetchq.intake.max-timeout");
        }
        if (maxTimeout != null && maxTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("fetchq.intake.max-timeout is too large");
        }
        if (maxDelay != null && maxDelay.isNegative()) {
            throw new IllegalArgumentException("fetchq.intake.max-delay must not be negative");
        }
    }

    private static void requirePositive(String name, DataSize size) {
        if (size != null && size.toBytes() <= 0) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }
}
