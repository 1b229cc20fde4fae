package io.fetchq.api.security;

import io.fetchq.db.Tenants;
import java.util.EnumSet;
import java.util.Set;

/**
 * Who made a request: set by {@link AuthenticationFilter} on every request it lets through to the
 * API, and passed to handlers that declare a parameter of this type.
 *
 * @param id names the caller in logs and rate limits: {@code key 12}, {@code admin-key} or
 *     {@code anonymous}; never the key itself
 * @param tenant whose jobs and batches the caller submits
 * @param scopes what the caller may do
 */
public record Caller(String id, String tenant, Set<Scope> scopes) {

    /** Anyone, when the API runs without keys: every scope, the default tenant. */
    public static final Caller ANONYMOUS = new Caller("anonymous", Tenants.DEFAULT, EnumSet.allOf(Scope.class));

    /** The key of {@code fetchq.security.admin-key}. */
    static final Caller ADMIN_KEY = new Caller("admin-key", Tenants.DEFAULT, EnumSet.of(Scope.ADMIN));

    static final String ATTRIBUTE = Caller.class.getName();

    public Caller {
        scopes = scopes.isEmpty() ? EnumSet.noneOf(Scope.class) : EnumSet.copyOf(scopes);
    }

    public boolean has(Scope scope) {
        return scopes.contains(Scope.ADMIN) || scopes.contains(scope);
    }

    /** The tenant whose jobs and batches this caller may see: null for an admin, who sees all. */
    public String visibleTenant() {
        return has(Scope.ADMIN) ? null : tenant;
    }
}
