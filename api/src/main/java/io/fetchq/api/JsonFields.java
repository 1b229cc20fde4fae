package io.fetchq.api;

import io.fetchq.api.problem.Errors;
import io.fetchq.api.problem.FieldError;
import tools.jackson.databind.JsonNode;

/** A JSON object's top-level fields as the API reads them: absent or null is null, a wrong type an error at its pointer. */
final class JsonFields {

    private JsonFields() {
    }

    static boolean absent(JsonNode root, String field) {
        return root.get(field) == null || root.get(field).isNull();
    }

    /** A non-blank string of at most {@code maxLength} characters, or null. */
    static String text(JsonNode root, String field, int maxLength, Errors errors) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isString() || node.stringValue().isBlank()) {
            errors.add(FieldError.atPointer("/" + field, "must be a non-empty string"));
            return null;
        }
        String value = node.stringValue();
        if (value.indexOf('\u0000') >= 0) {
            errors.add(FieldError.atPointer("/" + field, "must not contain NUL characters"));
            return null;
        }
        if (value.length() > maxLength) {
            errors.add(FieldError.atPointer("/" + field, "must be at most " + maxLength + " characters"));
        }
        return value;
    }

    /** true or false, or null. */
    static Boolean flag(JsonNode root, String field, Errors errors) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isBoolean()) {
            errors.add(FieldError.atPointer("/" + field, "must be true or false"));
            return null;
        }
        return node.booleanValue();
    }
}
