package io.fetchq.api.intake;

import io.fetchq.api.problem.FieldError;
import java.util.function.Function;

/** Where in a request a job's fields came from, to name them in errors. */
interface Where {

    /** The error for field {@code name} (a JSON field name such as {@code max_attempts}). */
    FieldError field(String name, String detail);

    /** The error for the job or object as a whole. */
    FieldError self(String detail);

    /** Fields of a JSON object at {@code pointer} ({@code ""} for the whole body). */
    static Where json(String pointer) {
        return new Where() {
            @Override
            public FieldError field(String name, String detail) {
                return FieldError.atPointer(pointer + "/" + name, detail);
            }

            @Override
            public FieldError self(String detail) {
                return FieldError.atPointer(pointer, detail);
            }
        };
    }

    /** A list element that is itself the URL (the {@code urls} shape): every field is the element. */
    static Where item(String pointer) {
        return whole(detail -> FieldError.atPointer(pointer, detail));
    }

    /** Query parameters of a text/plain batch, named like the JSON fields ({@code header} for headers). */
    static Where query() {
        return new Where() {
            @Override
            public FieldError field(String name, String detail) {
                return FieldError.atParameter(name.equals("headers") ? "header" : name, detail);
            }

            @Override
            public FieldError self(String detail) {
                return FieldError.atParameter(null, detail);
            }
        };
    }

    /** One line of a text/plain batch; every field of it is its URL. */
    static Where line(int line) {
        return whole(detail -> FieldError.atLine(line, detail));
    }

    /** A place where every field is the place itself. */
    private static Where whole(Function<String, FieldError> error) {
        return new Where() {
            @Override
            public FieldError field(String name, String detail) {
                return error.apply(detail);
            }

            @Override
            public FieldError self(String detail) {
                return error.apply(detail);
            }
        };
    }
}
