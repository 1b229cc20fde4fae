package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import java.util.List;

/** What the API's listings share: the bounds of their {@code limit} parameter. */
final class Listings {

    /** The most items one page of a listing holds. */
    static final int MAX_LIMIT = 1000;

    private Listings() {
    }

    /** Refuses a {@code limit} outside 1 to {@link #MAX_LIMIT} with a {@code 400} naming the parameter. */
    static void checkLimit(int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw ApiProblem.invalid(List.of(FieldError.atParameter("limit", "must be between 1 and " + MAX_LIMIT)), 1);
        }
    }
}
