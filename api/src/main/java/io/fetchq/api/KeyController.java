package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.Errors;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.ApiKeys;
import io.fetchq.api.security.Caller;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.db.ApiKeyQueries;
import io.fetchq.db.ApiKeyRow;
import io.fetchq.db.Tenants;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** API keys: create (the plaintext is answered once), list, revoke. Admin keys only. */
@Tag(name = "Keys", description = "API keys: create, list, revoke (admin scope)")
@RestController
@RequestMapping("/api/v1/keys")
@Requires(Scope.ADMIN)
class KeyController {

    private static final Logger log = LoggerFactory.getLogger(KeyController.class);
    private static final Set<String> FIELDS = Set.of("tenant", "scopes", "name");
    static final int MAX_NAME_LENGTH = 200;

    private final ApiKeyQueries keys;
    private final ApiKeys lookups;

    KeyController(ApiKeyQueries keys, ApiKeys lookups) {
        this.keys = keys;
        this.lookups = lookups;
    }

    @Operation(summary = "Create an API key", description = "201 with the key in key: the only time it is shown; "
            + "only its SHA-256 is stored.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = "application/json", schema = @Schema(implementation = ApiDocs.KeyRequest.class),
                    examples = @ExampleObject(value = "{\"tenant\": \"acme\", \"scopes\": [\"submit\", \"read\"], "
                            + "\"name\": \"nightly crawl\"}"))))
    @ApiResponse(responseCode = "201", description = "Created; key holds the plaintext, shown this once")
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<ApiKeyRow> create(@org.springframework.web.bind.annotation.RequestBody JsonNode body, Caller caller) {
        Errors errors = new Errors();
        if (!body.isObject()) {
            errors.add(FieldError.atPointer("", "must be a JSON object with tenant and scopes"));
            errors.throwIfAny();
        }
        for (String field : body.propertyNames()) {
            if (!FIELDS.contains(field)) {
                errors.add(FieldError.atPointer("/" + field, "is not a field of a key: tenant, scopes, name"));
            }
        }
        JsonNode tenant = body.get("tenant");
        if (tenant == null || !tenant.isString() || !Tenants.NAME.matcher(tenant.asString()).matches()) {
            errors.add(FieldError.atPointer("/tenant", "is required: 1 to 63 of a-z, 0-9, _ . - (starting with a "
                    + "letter or digit)"));
        }
        Set<String> scopes = new LinkedHashSet<>();
        JsonNode given = body.get("scopes");
        if (given == null || !given.isArray() || given.isEmpty()) {
            errors.add(FieldError.atPointer("/scopes", "is required: a list of " + String.join(", ", Scope.labels())));
        } else {
            for (int i = 0; i < given.size(); i++) {
                JsonNode scope = given.get(i);
                if (!scope.isString() || Scope.of(scope.asString()).isEmpty()) {
                    errors.add(FieldError.atPointer("/scopes/" + i, "must be one of " + String.join(", ", Scope.labels())));
                } else {
                    scopes.add(scope.asString());
                }
            }
        }
        JsonNode name = body.get("name");
        if (name != null && !name.isNull() && (!name.isString() || name.asString().length() > MAX_NAME_LENGTH)) {
            errors.add(FieldError.atPointer("/name", "must be a string of at most " + MAX_NAME_LENGTH + " characters"));
        } else if (name != null && name.isString() && name.asString().indexOf('\u0000') >= 0) {
            errors.add(FieldError.atPointer("/name", "must not contain the NUL character (U+0000)"));
        }
        errors.throwIfAny();
        ApiKeyRow created = keys.create(tenant.asString(), new ArrayList<>(scopes),
                name == null || name.isNull() ? null : name.asString());
        log.info("API key {} ({}…) created for tenant {} with scopes {} by {}", created.id(), created.prefix(),
                created.tenant(), created.scopes(), caller.id());
        return ResponseEntity.created(URI.create("/api/v1/keys/" + created.id())).body(created);
    }

    @Operation(summary = "List API keys", description = "Every key, revoked ones included, newest first; never the "
            + "keys themselves.")
    @GetMapping
    KeyList list() {
        return new KeyList(keys.list());
    }

    /** Every key, newest first. */
    record KeyList(List<ApiKeyRow> keys) {
    }

    @Operation(summary = "Revoke an API key", description = "The key stops working at once on this API instance, "
            + "within fetchq.security.key-cache-ttl on others. Revoking twice keeps the first time.")
    @PostMapping("/{id}/revoke")
    ApiKeyRow revoke(@PathVariable long id, Caller caller) {
        ApiKeyRow revoked = keys.revoke(id).orElseThrow(() -> ApiProblem.notFound("key " + id));
        lookups.forgetLookups();
        log.info("API key {} ({}…) of tenant {} revoked by {}", revoked.id(), revoked.prefix(), revoked.tenant(),
                caller.id());
        return revoked;
    }
}
