package io.fetchq.api.security;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Who may call the API, and how secrets in jobs are kept.
 *
 * @param allowAnonymous serve callers without a key, with every scope, as tenant {@code default}.
 *     Default false: the API then refuses to start until a key exists. The one-command mode (embedded
 *     database, listening on loopback only) is open without this.
 * @param adminKey an admin key given in configuration (tenant {@code default}), at least 32
 *     characters: the way to bootstrap a deployment, e.g. from a secret store. Unset by default.
 * @param publicMetrics serve {@code /actuator/prometheus} without a key. Default false: a key
 *     with the read scope.
 * @param publicDocs serve the OpenAPI description and Swagger UI without a key. Default true.
 * @param submitRateLimit submit requests (job or batch) each caller may make per
 *     {@code submit-rate-period}; beyond, 429 with Retry-After. 0: no limit. Default 100.
 * @param submitRatePeriod the period of {@code submit-rate-limit}. Default 1s.
 * @param readRateLimit reads ({@code GET} calls) each caller may make per {@code read-rate-period};
 *     beyond, 429 with Retry-After. 0: no limit. Default 200: a dashboard or a polling client
 *     stays far below it, a runaway script does not starve the database.
 * @param readRatePeriod the period of {@code read-rate-limit}. Default 1s.
 * @param keyCacheTtl how long a key's lookup is remembered: a key revoked through another API
 *     instance (or in SQL) stops working within this time. Default 5s.
 */
@Validated
@ConfigurationProperties("fetchq.security")
public record SecurityProperties(
        @DefaultValue("false") boolean allowAnonymous,
        String adminKey,
        @DefaultValue("false") boolean publicMetrics,
        @DefaultValue("true") boolean publicDocs,
        @DefaultValue("100") @Min(0) int submitRateLimit,
        @DefaultValue("1s") @NotNull Duration submitRatePeriod,
        @DefaultValue("200") @Min(0) int readRateLimit,
        @DefaultValue("1s") @NotNull Duration readRatePeriod,
        @DefaultValue("5s") @NotNull Duration keyCacheTtl) {

    /** Shortest admin key accepted: a guessable one would defeat every other protection. */
    static final int MIN_ADMIN_KEY_LENGTH = 32;

    public SecurityProperties {
        adminKey = adminKey == null || adminKey.isBlank() ? null : adminKey.strip();
        if (adminKey != null && adminKey.length() < MIN_ADMIN_KEY_LENGTH) {
            throw new IllegalArgumentException("fetchq.security.admin-key must be at least " + MIN_ADMIN_KEY_LENGTH
                    + " characters (e.g. openssl rand -base64 32)");
        }
        if (submitRatePeriod != null && (submitRatePeriod.isNegative() || submitRatePeriod.isZero())) {
            throw new IllegalArgumentException("fetchq.security.submit-rate-period must be positive");
        }
        if (readRatePeriod != null && (readRatePeriod.isNegative() || readRatePeriod.isZero())) {
            throw new IllegalArgumentException("fetchq.security.read-rate-period must be positive");
        }
        if (keyCacheTtl != null && keyCacheTtl.isNegative()) {
            throw new IllegalArgumentException("fetchq.security.key-cache-ttl must not be negative");
        }
    }

    @Override
    public String toString() {
        // Never the admin key itself: configuration is sometimes logged.
        return "SecurityProperties[allowAnonymous=" + allowAnonymous + ", adminKey=" + (adminKey == null ? "unset" : "set")
                + ", publicMetrics=" + publicMetrics + ", publicDocs=" + publicDocs
                + ", submitRateLimit=" + submitRateLimit + "/" + submitRatePeriod
                + ", readRateLimit=" + readRateLimit + "/" + readRatePeriod + ", keyCacheTtl=" + keyCacheTtl + "]";
    }
}
