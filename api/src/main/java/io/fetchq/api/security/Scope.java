package io.fetchq.api.security;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** What an API key may do. {@link #ADMIN} may do everything, for every tenant. */
public enum Scope {
    /** Submit jobs and batches, cancel and retry them. */
    SUBMIT,
    /** Read jobs, batches, results, attempts, bodies, stats and metrics. */
    READ,
    /** Everything, over every tenant's jobs; manage keys. */
    ADMIN;

    /** The scope's name as the API and the database write it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Scope> of(String label) {
        return Arrays.stream(values()).filter(s -> s.label().equals(label)).findFirst();
    }

    public static List<String> labels() {
        return Arrays.stream(values()).map(Scope::label).toList();
    }
}
