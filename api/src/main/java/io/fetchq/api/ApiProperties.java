package io.fetchq.api;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the read side of the REST API.
 *
 * @param maxWait longest a {@code wait_ms} long-poll may hold a request. Default 60s; keep it below
 *     the idle timeout of any proxy in front of the API.
 * @param waitPollInterval how often a long-poll looks at the database again without being told to:
 *     it is woken by the "jobs finished" notifications of what it waits for, so this is only a safety
 *     net for a lost one. Default 5s. While notifications do not arrive (their connection is down),
 *     it looks every 200 ms.
 * @param defaultPageSize jobs per page of a listing when {@code limit} is absent. Default 100.
 * @param maxPageSize largest {@code limit} of a listing. Default 1,000.
 * @param statsMaxAge how long {@code GET /api/v1/stats} serves the same answer. Default 2s: counting
 *     a long history is not free, and dashboards poll.
 * @param stuckHostAfter a host is shown stuck when its oldest due job has waited this long with
 *     none of its jobs running and no worker holding it back (open breaker, Retry-After). Default
 *     30s: far beyond a worker's poll interval, short enough to page someone.
 */
@Validated
@ConfigurationProperties("fetchq.api")
public record ApiProperties(
        @DefaultValue("60s") @NotNull Duration maxWait,
        @DefaultValue("5s") @NotNull Duration waitPollInterval,
        @DefaultValue("100") @Min(1) @Max(10_000) int defaultPageSize,
        @DefaultValue("1000") @Min(1) @Max(10_000) int maxPageSize,
        @DefaultValue("2s") @NotNull Duration statsMaxAge,
        @DefaultValue("30s") @NotNull Duration stuckHostAfter) {

    public ApiProperties {
        if (waitPollInterval != null && (waitPollInterval.isNegative() || waitPollInterval.isZero())) {
            throw new IllegalArgumentException("fetchq.api.wait-poll-interval must be positive");
        }
        if (maxWait != null && maxWait.isNegative()) {
            throw new IllegalArgumentException("fetchq.api.max-wait must not be negative");
        }
        if (defaultPageSize > maxPageSize) {
            throw new IllegalArgumentException("fetchq.api.default-page-size must not exceed fetchq.api.max-page-size");
        }
    }
}
