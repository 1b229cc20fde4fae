package io.fetchq.api;

import io.fetchq.api.intake.Intake;
import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.Errors;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.Caller;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.db.DeliveryRow;
import io.fetchq.db.WebhookQueries;
import io.fetchq.db.WebhookRow;
import io.fetchq.url.UrlCheck;
import io.fetchq.url.UrlPolicy;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** Webhook endpoints: where fetchq sends signed events, and the log of what it sent. */
@Tag(name = "Webhooks", description = "Signed event deliveries (Standard Webhooks) to endpoints of yours, and their log")
@RestController
@RequestMapping("/api/v1/webhooks")
class WebhookController {

    private static final List<String> EVENT_TYPES = WebhookQueries.EVENT_TYPES;

    /** The longest description of an endpoint. */
    static final int MAX_DESCRIPTION = 1000;

    private static final Set<String> FIELDS = Set.of("url", "events", "description");
    private static final Set<String> CHANGES = Set.of("url", "events", "description", "disabled");

    private final Intake intake;
    private final WebhookQueries webhooks;
    private final UrlPolicy policy;

    WebhookController(Intake intake, WebhookQueries webhooks, UrlPolicy policy) {
        this.intake = intake;
        this.webhooks = webhooks;
        this.policy = policy;
    }

    @Operation(summary = "Create a webhook endpoint", description = "{\"url\", \"events\": [batch.completed, "
            + "job.failed, job.changed, schedule.run_completed], \"description\"}. The answer carries the signing "
            + "secret (whsec_...): it is shown this once, never again. The URL must be one the URL policy lets "
            + "fetchq fetch.")
    @Requires(Scope.SUBMIT)
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<WebhookRow> create(@Parameter(hidden = true) HttpServletRequest request, Caller caller) {
        mayReceive(caller);
        JsonNode root = object(request);
        Errors errors = new Errors();
        unknown(root, FIELDS, errors);
        if (JsonFields.absent(root, "url")) {
            errors.add(FieldError.atPointer("/url", "is required"));
        }
        String url = url(root, errors);
        if (JsonFields.absent(root, "events")) {
            errors.add(FieldError.atPointer("/events", "is required: one or more of " + String.join(", ", EVENT_TYPES)));
        }
        List<String> events = events(root, errors);
        String description = JsonFields.text(root, "description", MAX_DESCRIPTION, errors);
        errors.throwIfAny();
        WebhookRow created = webhooks.create(caller.tenant(), url, events, description);
        return ResponseEntity.created(URI.create("/api/v1/webhooks/" + created.id())).body(created);
    }

    @Operation(summary = "List webhook endpoints", description = "In id order; pass the last id as after_id for more.")
    @Requires(Scope.READ)
    @GetMapping
    List<WebhookRow> list(Caller caller,
            @Parameter(description = "endpoints to list, 1 to 1000 (default 100)")
            @RequestParam(required = false, defaultValue = "100") int limit,
            @RequestParam(name = "after_id", required = false, defaultValue = "0") long afterId) {
        Listings.checkLimit(limit);
        return webhooks.list(caller.visibleTenant(), afterId, limit);
    }

    @Operation(summary = "Read a webhook endpoint")
    @Requires(Scope.READ)
    @GetMapping("/{id}")
    WebhookRow get(@PathVariable long id, Caller caller) {
        return webhooks.find(id, caller.visibleTenant()).orElseThrow(() -> notFound(id));
    }

    @Operation(summary = "Change a webhook endpoint", description = "Any of url, events, description; \"disabled\": "
            + "false enables a disabled endpoint again (its pending deliveries go on), true disables it.")
    @Requires(Scope.SUBMIT)
    @PatchMapping(path = "/{id}", consumes = MediaType.APPLICATION_JSON_VALUE)
    WebhookRow update(@PathVariable long id, @Parameter(hidden = true) HttpServletRequest request, Caller caller) {
        mayReceive(caller);
        webhooks.find(id, caller.visibleTenant()).orElseThrow(() -> notFound(id));
        JsonNode root = object(request);
        Errors errors = new Errors();
        unknown(root, CHANGES, errors);
        String url = url(root, errors);
        List<String> events = JsonFields.absent(root, "events") ? null : events(root, errors);
        String description = JsonFields.text(root, "description", MAX_DESCRIPTION, errors);
        Boolean disabled = JsonFields.flag(root, "disabled", errors);
        errors.throwIfAny();
        return webhooks.update(id, caller.visibleTenant(), new WebhookQueries.Change(url, events, description, disabled))
                .orElseThrow(() -> notFound(id));
    }

    @Operation(summary = "Delete a webhook endpoint", description = "With its deliveries and their log.")
    @Requires(Scope.SUBMIT)
    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(@PathVariable long id, Caller caller) {
        if (!webhooks.delete(id, caller.visibleTenant())) {
            throw notFound(id);
        }
        return ResponseEntity.noContent().build();
    }

    @Operation(summary = "An endpoint's deliveries", description = "Newest first, each with its attempts; pass the "
            + "last id as before_id for older ones.")
    @Requires(Scope.READ)
    @GetMapping("/{id}/deliveries")
    List<DeliveryRow> deliveries(@PathVariable long id, Caller caller,
            @Parameter(description = "deliveries to list, 1 to 1000 (default 100)")
            @RequestParam(required = false, defaultValue = "100") int limit,
            @RequestParam(name = "before_id", required = false, defaultValue = "" + Long.MAX_VALUE) long beforeId) {
        Listings.checkLimit(limit);
        return webhooks.deliveries(id, caller.visibleTenant(), beforeId, limit).orElseThrow(() -> notFound(id));
    }

    @Operation(summary = "Send a delivery again", description = "As soon as a worker can, whatever its state; its "
            + "attempts count on, with the same webhook-id.")
    @Requires(Scope.SUBMIT)
    @PostMapping("/{id}/deliveries/{deliveryId}/retry")
    DeliveryRow retry(@PathVariable long id, @PathVariable long deliveryId, Caller caller) {
        return webhooks.retry(id, deliveryId, caller.visibleTenant())
                .orElseThrow(() -> ApiProblem.notFound("delivery " + deliveryId + " of webhook " + id));
    }

    /**
     * An endpoint receives the tenant's jobs and batches as the API shows them to readers: whoever
     * points one somewhere must be able to read them (submit to change endpoints, read as well).
     */
    private static void mayReceive(Caller caller) {
        if (!caller.has(Scope.READ)) {
            throw new ApiProblem(HttpStatus.FORBIDDEN, "Forbidden", "an endpoint receives the tenant's jobs and batches: "
                    + "this call needs an API key with the read scope as well as submit");
        }
    }

    private JsonNode object(HttpServletRequest request) {
        JsonNode root = intake.json(intake.readBody(request));
        if (!root.isObject()) {
            throw ApiProblem.invalid(List.of(FieldError.atPointer("", "must be a JSON object")), 1);
        }
        return root;
    }

    private static void unknown(JsonNode root, Set<String> known, Errors errors) {
        for (String field : root.propertyNames()) {
            if (!known.contains(field)) {
                errors.add(FieldError.atPointer("/" + field, "unknown field"));
            }
        }
    }

    /** The URL, normalised, when the URL policy would let a job fetch it; else an error. */
    private String url(JsonNode root, Errors errors) {
        String given = JsonFields.text(root, "url", Integer.MAX_VALUE, errors);
        if (given == null) {
            return null;
        }
        UrlCheck check = policy.check(given);
        if (!check.valid()) {
            errors.add(FieldError.atPointer("/url", check.reason()));
            return null;
        }
        if (!check.allowed()) {
            errors.add(FieldError.atPointer("/url", "is not allowed: " + check.reason()));
            return null;
        }
        return check.normalized();
    }

    /** One or more known event types, each once. */
    private static List<String> events(JsonNode root, Errors errors) {
        JsonNode node = root.get("events");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray() || node.isEmpty()) {
            errors.add(FieldError.atPointer("/events", "must be a non-empty array of " + String.join(", ", EVENT_TYPES)));
            return null;
        }
        Set<String> types = new LinkedHashSet<>();
        List<FieldError> wrong = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode type = node.get(i);
            if (!type.isString() || !EVENT_TYPES.contains(type.stringValue())) {
                wrong.add(FieldError.atPointer("/events/" + i, "unknown event type: one of " + String.join(", ", EVENT_TYPES)));
            } else {
                types.add(type.stringValue());
            }
        }
        wrong.forEach(errors::add);
        return wrong.isEmpty() ? List.copyOf(types) : null;
    }


    private static ApiProblem notFound(long id) {
        return ApiProblem.notFound("webhook " + id);
    }
}
