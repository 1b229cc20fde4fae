package io.fetchq.api.problem;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects everything wrong with a request, so that one answer names every bad field, index or
 * line. Keeps the first {@link #MAX_REPORTED}; counts them all.
 */
public final class Errors {

    /** A 100,000-line batch of bad lines should not answer with 100,000 entries. */
    public static final int MAX_REPORTED = 100;

    private final List<FieldError> reported = new ArrayList<>();
    private int count;

    public void add(FieldError error) {
        count++;
        if (reported.size() < MAX_REPORTED) {
            reported.add(error);
        }
    }

    public boolean isEmpty() {
        return count == 0;
    }

    public int count() {
        return count;
    }

    /** Throws the collected errors as a {@code 400}, if there are any. */
    public void throwIfAny() {
        if (count > 0) {
            throw ApiProblem.invalid(reported, count);
        }
    }
}
