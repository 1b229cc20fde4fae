package io.fetchq.db;

import java.util.regex.Pattern;

/** Tenants: who a job, batch or API key belongs to. */
public final class Tenants {

    /** The tenant of everything submitted without a key, and of the configured admin key. */
    public static final String DEFAULT = "default";

    /** A tenant's name: lower-case letters, digits, {@code _ . -}, up to 63 characters (as the table checks). */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");

    private Tenants() {
    }
}
