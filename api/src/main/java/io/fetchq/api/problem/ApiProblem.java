package io.fetchq.api.problem;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;

/**
 * A request fetchq refuses, answered as {@code application/problem+json}. Thrown before anything
 * is written, so a refused request changes nothing.
 */
public class ApiProblem extends RuntimeException {

    private final HttpStatus status;
    private final String title;
    private final List<FieldError> errors;
    private final int errorCount;
    private final Map<String, String> headers = new LinkedHashMap<>();

    public ApiProblem(HttpStatus status, String title, String detail, List<FieldError> errors, int errorCount) {
        super(detail);
        this.status = status;
        this.title = title;
        this.errors = List.copyOf(errors);
        this.errorCount = errorCount;
    }

    public ApiProblem(HttpStatus status, String title, String detail) {
        this(status, title, detail, List.of(), 0);
    }

    public static ApiProblem invalid(List<FieldError> errors, int errorCount) {
        String detail = errorCount == 1
                ? errors.getFirst().detail()
                : errorCount + " problems in the request; see errors";
        return new ApiProblem(HttpStatus.BAD_REQUEST, "Invalid request", detail, errors, errorCount);
    }

    public static ApiProblem notFound(String what) {
        return new ApiProblem(HttpStatus.NOT_FOUND, "Not found", what + " does not exist");
    }

    /** Adds a response header to the answer (a challenge, a Retry-After). */
    public ApiProblem withHeader(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public HttpStatus status() {
        return status;
    }

    public String title() {
        return title;
    }

    public List<FieldError> errors() {
        return errors;
    }

    public int errorCount() {
        return errorCount;
    }
}
