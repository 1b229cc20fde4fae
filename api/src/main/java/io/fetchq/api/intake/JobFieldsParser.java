package io.fetchq.api.intake;

import io.fetchq.api.IntakeProperties;
import io.fetchq.api.problem.Errors;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the fields of one job object (or of a batch's {@code defaults}) from JSON, checking each
 * field on its own and reporting every problem with where it is. Cross-field rules that need the
 * defaults too live in {@link JobResolver}.
 */
final class JobFieldsParser {

    static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    static final Set<String> EXTRACTS = Set.of("title", "links");
    static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;

    /**
     * Headers fetchq sets itself: framing and connection management belong to the HTTP client, and
     * a caller's {@code Accept-Encoding} would switch off transparent decompression.
     */
    static final Set<String> RESERVED_HEADERS = Set.of(
            "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
            "trailer", "proxy-connection", "accept-encoding");

    private final IntakeProperties limits;

    JobFieldsParser(IntakeProperties limits) {
        this.limits = limits;
    }

    /** Parses a job object; {@code isDefaults} refuses the fields that only a job may carry. */
    JobFields parse(JsonNode node, Where where, boolean isDefaults, Errors errors) {
        if (node == null || node.isNull()) {
            return JobFields.NONE;
        }
        if (!node.isObject()) {
            errors.add(where.self("must be a JSON object"));
            return JobFields.NONE;
        }
        String url = null, method = null, idempotencyKey = null;
        Map<String, String> headers = null;
        byte[] body = null;
        Integer priority = null, maxAttempts = null, timeoutMs = null, maxBodyBytes = null;
        Instant runAt = null;
        Long delayMs = null;
        Boolean storeBody = null, followRedirects = null, conditional = null, robots = null;
        List<String> extract = null;
        ObjectNode metadata = null;
        boolean sawBody = false;
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (value.isNull()) {
                continue; // null means absent
            }
            switch (name) {
                case "url" -> {
                    if (isDefaults) {
                        errors.add(where.field(name, "a batch's defaults cannot set url"));
                    } else {
                        url = string(value, where, name, errors);
                    }
                }
                case "method" -> method = method(value, where, errors);
                case "headers" -> headers = headers(value, where, errors);
                case "body", "body_base64" -> {
                    if (sawBody) {
                        errors.add(where.field(name, "give either body or body_base64, not both"));
                        continue;
                    }
                    sawBody = true;
                    body = body(name, value, where, errors);
                }
                case "priority" -> priority = integer(value, where, name, -limits.maxPriority(), limits.maxPriority(),
                        errors);
                case "run_at" -> runAt = runAt(value, where, errors);
                case "delay_ms" -> delayMs = longValue(value, where, name, 0, limits.maxDelay().toMillis(), errors);
                case "max_attempts" -> maxAttempts = integer(value, where, name, 1, 25, errors);
                case "timeout_ms" -> timeoutMs = integer(value, where, name, 1, limits.maxTimeout().toMillis(), errors);
                case "max_body_bytes" -> maxBodyBytes =
                        integer(value, where, name, 0, limits.maxBodySizeCeiling().toBytes(), errors);
                case "store_body" -> storeBody = bool(value, where, name, errors);
                case "follow_redirects" -> followRedirects = bool(value, where, name, errors);
                case "extract" -> extract = extract(value, where, errors);
                case "conditional" -> conditional = bool(value, where, name, errors);
                case "robots" -> robots = robots(value, where, errors);
                case "idempotency_key" -> {
                    if (isDefaults) {
                        errors.add(where.field(name, "a batch's defaults cannot set idempotency_key"));
                    } else {
                        idempotencyKey = idempotencyKey(value, where, errors);
                    }
                }
                case "metadata" -> metadata = metadata(value, where, errors);
                default -> errors.add(where.field(name, "unknown field"));
            }
        }
        if (runAt != null && delayMs != null) {
            errors.add(where.field("delay_ms", "give either run_at or delay_ms, not both"));
        }
        return new JobFields(url, method, headers, body, priority, runAt, delayMs, maxAttempts, timeoutMs,
                maxBodyBytes, storeBody, followRedirects, extract, conditional, robots, idempotencyKey, metadata);
    }

    private static String string(JsonNode value, Where where, String name, Errors errors) {
        if (!value.isString()) {
            errors.add(where.field(name, "must be a string"));
            return null;
        }
        return value.stringValue();
    }

    /** {@code "obey"} (true) or {@code "ignore"} (false). */
    static Boolean robots(JsonNode value, Where where, Errors errors) {
        String robots = string(value, where, "robots", errors);
        if (robots == null) {
            return null;
        }
        return switch (robots) {
            case "obey" -> true;
            case "ignore" -> false;
            default -> {
                errors.add(where.field("robots", "must be obey or ignore"));
                yield null;
            }
        };
    }

    private static String method(JsonNode value, Where where, Errors errors) {
        String method = string(value, where, "method", errors);
        if (method == null) {
            return null;
        }
        String upper = method.toUpperCase(Locale.ROOT);
        if (!METHODS.contains(upper)) {
            errors.add(where.field("method", "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"));
            return null;
        }
        return upper;
    }

    private Map<String, String> headers(JsonNode value, Where where, Errors errors) {
        if (!value.isObject()) {
            errors.add(where.field("headers", "must be an object of header names to string values"));
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> header : value.properties()) {
            String name = header.getKey();
            String pointer = "headers/" + escapePointer(name);
            if (!isToken(name)) {
                errors.add(where.field(pointer, "is not a valid header name"));
            } else if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                errors.add(where.field(pointer, "is set by fetchq and cannot be given"));
            } else if (!header.getValue().isString()) {
                errors.add(where.field(pointer, "must be a string"));
            } else if (!isHeaderValue(header.getValue().stringValue())) {
                errors.add(where.field(pointer, "contains characters not allowed in a header value"));
            } else {
                headers.put(name, header.getValue().stringValue());
            }
        }
        return headers;
    }

    private byte[] body(String name, JsonNode value, Where where, Errors errors) {
        String text = string(value, where, name, errors);
        if (text == null) {
            return null;
        }
        byte[] body;
        if (name.equals("body")) {
            body = text.getBytes(StandardCharsets.UTF_8);
        } else {
            try {
                body = Base64.getDecoder().decode(text);
            } catch (IllegalArgumentException e) {
                errors.add(where.field(name, "is not valid base64"));
                return null;
            }
        }
        if (body.length > limits.maxJobBodySize().toBytes()) {
            errors.add(where.field(name, "is larger than " + limits.maxJobBodySize().toBytes() + " bytes"));
            return null;
        }
        return body;
    }

    private Instant runAt(JsonNode value, Where where, Errors errors) {
        String text = string(value, where, "run_at", errors);
        if (text == null) {
            return null;
        }
        try {
            Instant at = OffsetDateTime.parse(text).toInstant();
            int year = at.atOffset(java.time.ZoneOffset.UTC).getYear();
            if (year < 1 || year > 9999) {
                // PostgreSQL and its driver keep years 1 to 9999 only (in UTC).
                errors.add(where.field("run_at", "must be between the years 0001 and 9999 (in UTC)"));
                return null;
            }
            if (at.isAfter(Instant.now().plus(limits.maxDelay()))) {
                errors.add(where.field("run_at", "is further ahead than " + limits.maxDelay().toDays() + " days"));
                return null;
            }
            return at;
        } catch (DateTimeParseException e) {
            errors.add(where.field("run_at", "must be an RFC 3339 date-time with offset, e.g. 2026-01-31T12:00:00Z"));
            return null;
        }
    }

    private static List<String> extract(JsonNode value, Where where, Errors errors) {
        if (!value.isArray()) {
            errors.add(where.field("extract", "must be an array of \"title\" and \"links\""));
            return null;
        }
        List<String> extract = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            JsonNode item = value.get(i);
            if (!item.isString() || !EXTRACTS.contains(item.stringValue())) {
                errors.add(where.field("extract/" + i, "must be \"title\" or \"links\""));
            } else if (!extract.contains(item.stringValue())) {
                extract.add(item.stringValue());
            }
        }
        return extract;
    }

    private static String idempotencyKey(JsonNode value, Where where, Errors errors) {
        String key = string(value, where, "idempotency_key", errors);
        if (key != null && (key.isEmpty() || key.length() > MAX_IDEMPOTENCY_KEY_LENGTH)) {
            errors.add(where.field("idempotency_key", "must be 1 to " + MAX_IDEMPOTENCY_KEY_LENGTH + " characters"));
            return null;
        }
        if (key != null && key.indexOf('\u0000') >= 0) {
            errors.add(where.field("idempotency_key", NUL));
            return null;
        }
        return key;
    }

    private ObjectNode metadata(JsonNode value, Where where, Errors errors) {
        if (!value.isObject()) {
            errors.add(where.field("metadata", "must be a JSON object"));
            return null;
        }
        if (value.toString().getBytes(StandardCharsets.UTF_8).length > limits.maxMetadataSize().toBytes()) {
            errors.add(where.field("metadata", "is larger than " + limits.maxMetadataSize().toBytes() + " bytes as JSON"));
            return null;
        }
        String nul = nulAt(value, "metadata");
        if (nul != null) {
            errors.add(where.field(nul, NUL));
            return null;
        }
        return (ObjectNode) value;
    }

    /** PostgreSQL's text and jsonb refuse the NUL character. */
    static final String NUL = "must not contain the NUL character (U+0000)";

    /**
     * Where in a JSON value the first NUL character is, as a field path below {@code at} (a key holding
     * one names its object), or null when there is none.
     */
    private static String nulAt(JsonNode value, String at) {
        if (value.isString()) {
            return value.stringValue().indexOf('\u0000') >= 0 ? at : null;
        }
        if (value.isObject()) {
            for (Map.Entry<String, JsonNode> e : value.properties()) {
                if (e.getKey().indexOf('\u0000') >= 0) {
                    return at;
                }
                String inside = nulAt(e.getValue(), at + "/" + e.getKey().replace("~", "~0").replace("/", "~1"));
                if (inside != null) {
                    return inside;
                }
            }
        }
        if (value.isArray()) {
            for (int i = 0; i < value.size(); i++) {
                String inside = nulAt(value.get(i), at + "/" + i);
                if (inside != null) {
                    return inside;
                }
            }
        }
        return null;
    }

    private static Integer integer(JsonNode value, Where where, String name, long min, long max, Errors errors) {
        Long n = longValue(value, where, name, min, Math.min(max, Integer.MAX_VALUE), errors);
        return n == null ? null : n.intValue();
    }

    private static Long longValue(JsonNode value, Where where, String name, long min, long max, Errors errors) {
        if (!value.isIntegralNumber()) {
            errors.add(where.field(name, "must be an integer"));
            return null;
        }
        if (!value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
            errors.add(where.field(name, "must be between " + min + " and " + max));
            return null;
        }
        return value.longValue();
    }

    private static Boolean bool(JsonNode value, Where where, String name, Errors errors) {
        if (!value.isBoolean()) {
            errors.add(where.field(name, "must be true or false"));
            return null;
        }
        return value.booleanValue();
    }

    /** RFC 9110 token characters. */
    static boolean isToken(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Visible ASCII, spaces and tabs; no CR, LF or other controls (they would split the header). */
    static boolean isHeaderValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < ' ' && c != '\t') || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    private static String escapePointer(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }
}
