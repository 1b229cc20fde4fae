package io.fetchq.db;

import java.util.regex.Pattern;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Tenants: who a job, batch or API key belongs to. */
public final class Tenants {

    /** The tenant of everything submitted without a key, and of the configured admin key. */
    public static final String DEFAULT = "default";

    /** A tenant's name: lower-case letters, digits, {@code _ . -}, up to 63 characters (as the table checks). */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");

    /** The SQL condition that keeps rows of {@code alias} to one tenant, or nothing for every tenant's. */
    static String condition(String alias, String tenant) {
        return tenant == null ? "" : " AND " + alias + ".tenant = :tenant";
    }

    /** Binds the tenant of {@link #condition}, when there is one. */
    static JdbcClient.StatementSpec bind(JdbcClient.StatementSpec statement, String tenant) {
        return tenant == null ? statement : statement.param("tenant", tenant);
    }

    private Tenants() {
    }
}
