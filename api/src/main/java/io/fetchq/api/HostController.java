package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.Errors;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.Caller;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.db.HostLedger;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Set;
import okhttp3.HttpUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * {@code PUT /api/v1/hosts/{host}}: an admin's run-time control of a host, for the whole fleet —
 * its limit on requests in flight, its rate, a pause. {@code GET /api/v1/hosts/{host}}: the host as
 * view {@code fetchq.hosts} shows it.
 */
@Tag(name = "Operations", description = "The installation at a glance, and URL checks")
@RestController
class HostController {

    private static final Logger log = LoggerFactory.getLogger(HostController.class);
    private static final Set<String> FIELDS = Set.of("max_in_flight", "rate_per_s", "paused_until");
    static final int MAX_IN_FLIGHT = 100_000;
    static final double MAX_RATE = 100_000;
    private static final String HOST = "the host, as in a URL, without scheme, port or path (IDNs in Unicode or punycode)";

    private final HostLedger ledger;

    HostController(HostLedger ledger) {
        this.ledger = ledger;
    }

    @Operation(summary = "Set a host's limits or pause it", description = "Any subset of max_in_flight (requests in "
            + "flight to the host from all workers together, 1 to 100000), rate_per_s (requests per second from all "
            + "workers together, above 0, at most 100000) and paused_until (RFC 3339: no request to the host before "
            + "it); null returns a field to the workers' configured default (for paused_until: resumes the host). "
            + "Every worker obeys it within fetchq.worker.host-sync-interval.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = "application/json", schema = @Schema(implementation = ApiDocs.HostSettings.class),
                    examples = @ExampleObject(
                            value = "{\"max_in_flight\": 4, \"rate_per_s\": 2.5, \"paused_until\": null}"))))
    @Requires(Scope.ADMIN)
    @PutMapping(value = "/api/v1/hosts/{host}", consumes = MediaType.APPLICATION_JSON_VALUE)
    HostLedger.HostView configure(@Parameter(description = HOST) @PathVariable String host,
            @org.springframework.web.bind.annotation.RequestBody JsonNode body, Caller caller) {
        String name = hostName(host);
        Errors errors = new Errors();
        if (!body.isObject() || body.isEmpty()) {
            errors.add(FieldError.atPointer("", "must be a JSON object with any of max_in_flight, rate_per_s, "
                    + "paused_until"));
            errors.throwIfAny();
        }
        for (String field : body.propertyNames()) {
            if (!FIELDS.contains(field)) {
                errors.add(FieldError.atPointer("/" + field,
                        "is not a setting of a host: max_in_flight, rate_per_s, paused_until"));
            }
        }
        JsonNode limit = body.get("max_in_flight");
        if (limit != null && !limit.isNull()
                && (!limit.isIntegralNumber() || !limit.canConvertToInt() || limit.asInt() < 1 || limit.asInt() > MAX_IN_FLIGHT)) {
            errors.add(FieldError.atPointer("/max_in_flight", "must be an integer from 1 to " + MAX_IN_FLIGHT
                    + ", or null for the default"));
        }
        JsonNode rate = body.get("rate_per_s");
        if (rate != null && !rate.isNull()
                && (!rate.isNumber() || !(rate.asDouble() > 0) || rate.asDouble() > MAX_RATE)) {
            errors.add(FieldError.atPointer("/rate_per_s", "must be a number above 0 and at most 100000, or null for "
                    + "the default (none unless configured)"));
        }
        JsonNode paused = body.get("paused_until");
        OffsetDateTime pausedUntil = null;
        if (paused != null && !paused.isNull()) {
            try {
                pausedUntil = paused.isString() ? OffsetDateTime.parse(paused.asString()) : null;
            } catch (DateTimeParseException e) {
                pausedUntil = null;
            }
            if (pausedUntil == null) {
                errors.add(FieldError.atPointer("/paused_until",
                        "must be an RFC 3339 date-time (2026-12-31T23:59:00Z), or null to resume the host"));
            }
        }
        errors.throwIfAny();
        HostLedger.Settings settings = new HostLedger.Settings(
                limit != null, limit == null || limit.isNull() ? null : limit.asInt(),
                rate != null, rate == null || rate.isNull() ? null : rate.asDouble(),
                paused != null, pausedUntil);
        ledger.configure(name, settings);
        log.info("host {} set to {} by {}", name, body, caller.id());
        return ledger.view(name);
    }

    @Operation(summary = "A host", description = "The host as view fetchq.hosts shows it: its limit and rate in force, "
            + "the fleet's requests in flight, its pause and breaker, its jobs waiting.")
    @Requires(Scope.READ)
    @GetMapping("/api/v1/hosts/{host}")
    HostLedger.HostView host(@Parameter(description = HOST) @PathVariable String host) {
        return ledger.view(hostName(host));
    }

    /** The host as jobs carry it (lowercase, IDNs in punycode), or 400. */
    static String hostName(String host) {
        boolean ipv6 = host.chars().filter(c -> c == ':').count() >= 2;
        boolean bad = host.isEmpty() || host.length() > 253 || host.matches(".*[/@?#\\s\\\\].*")
                || !ipv6 && host.contains(":");
        HttpUrl url = bad ? null : HttpUrl.parse("http://" + (ipv6 && !host.startsWith("[") ? "[" + host + "]" : host) + "/");
        if (url == null) {
            throw ApiProblem.invalid(List.of(FieldError.atParameter("host",
                    "must be a host name or IP address as in a URL, without scheme, port or path")), 1);
        }
        return url.host();
    }
}
