package io.fetchq.api.problem;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One thing wrong with a request, as an entry of a problem's {@code errors}: where (a JSON
 * pointer into the body, a line of a text body, or a query parameter) and what.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FieldError(String pointer, Integer line, String parameter, String detail) {

    public static FieldError atPointer(String pointer, String detail) {
        return new FieldError(pointer, null, null, detail);
    }

    public static FieldError atLine(int line, String detail) {
        return new FieldError(null, line, null, detail);
    }

    public static FieldError atParameter(String parameter, String detail) {
        return new FieldError(null, null, parameter, detail);
    }
}
