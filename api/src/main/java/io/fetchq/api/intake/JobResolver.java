package io.fetchq.api.intake;

import io.fetchq.api.IntakeProperties;
import io.fetchq.api.problem.Errors;
import io.fetchq.db.NewJob;
import io.fetchq.url.UrlCheck;
import io.fetchq.url.UrlPolicy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns a job's fields and its batch's defaults into a job to insert: a job's field wins over the
 * default, headers and metadata merge key by key (the job's win), and settings fill the rest. The
 * URL is judged by the {@link UrlPolicy} here.
 */
final class JobResolver {

    private final IntakeProperties limits;
    private final UrlPolicy urlPolicy;

    JobResolver(IntakeProperties limits, UrlPolicy urlPolicy) {
        this.limits = limits;
        this.urlPolicy = urlPolicy;
    }

    /** The job, or null when it has errors (then added to {@code errors}); not conditional unless asked. */
    NewJob resolve(JobFields job, JobFields defaults, Where where, Errors errors) {
        return resolve(job, defaults, false, where, errors);
    }

    /**
     * As above, {@code conditionalByDefault} saying whether a GET that does not set
     * {@code conditional} is conditional (a schedule's are: each run checks the same URLs again).
     */
    NewJob resolve(JobFields job, JobFields defaults, boolean conditionalByDefault, Where where, Errors errors) {
        int before = errors.count();
        UrlCheck url = null;
        if (job.url() == null) {
            errors.add(where.field("url", "is required"));
        } else {
            url = urlPolicy.check(job.url());
            if (!url.valid()) {
                errors.add(where.field("url", url.reason()));
            } else if (!url.allowed()) {
                errors.add(where.field("url", "is not allowed: " + url.reason()));
            }
        }
        String method = pick(job.method(), defaults.method(), "GET");
        byte[] body = job.body() != null ? job.body() : defaults.body();
        if (body != null && (method.equals("GET") || method.equals("HEAD"))) {
            errors.add(where.field(job.body() != null ? "body" : "method", method + " requests cannot carry a body"));
        }
        Boolean askedConditional = job.conditional() != null ? job.conditional() : defaults.conditional();
        if (Boolean.TRUE.equals(askedConditional) && !method.equals("GET")) {
            errors.add(where.field(job.conditional() != null ? "conditional" : "method",
                    "conditional requests are GETs; this job's method is " + method));
        }
        Map<String, String> headers = mergeHeaders(defaults.headers(), job.headers());
        if (headers.size() > limits.maxHeaders()) {
            errors.add(where.field("headers", "has more than " + limits.maxHeaders() + " headers"));
        } else if (headersSize(headers) > limits.maxHeadersSize().toBytes()) {
            errors.add(where.field("headers", "are larger than " + limits.maxHeadersSize().toBytes() + " bytes"));
        }
        ObjectNode metadata = mergeMetadata(defaults.metadata(), job.metadata());
        String metadataJson = metadata == null ? null : metadata.toString();
        if (metadataJson != null && metadataJson.getBytes(StandardCharsets.UTF_8).length > limits.maxMetadataSize().toBytes()) {
            errors.add(where.field("metadata", "is larger than " + limits.maxMetadataSize().toBytes() + " bytes as JSON"));
        }
        if (errors.count() > before) {
            return null;
        }
        // Scheduling is taken whole from the job when it sets either field, else from the defaults.
        JobFields schedule = job.schedules() ? job : defaults;
        Instant runAt = schedule.runAt();
        long delayMs = schedule.delayMs() == null ? 0 : schedule.delayMs();
        int priority = pick(job.priority(), defaults.priority(), 0);
        int maxAttempts = pick(job.maxAttempts(), defaults.maxAttempts(), limits.defaultMaxAttempts());
        int timeoutMs = pick(job.timeoutMs(), defaults.timeoutMs(), (int) limits.defaultTimeout().toMillis());
        int maxBodyBytes = pick(job.maxBodyBytes(), defaults.maxBodyBytes(), (int) limits.defaultMaxBodySize().toBytes());
        boolean storeBody = pick(job.storeBody(), defaults.storeBody(), true);
        boolean followRedirects = pick(job.followRedirects(), defaults.followRedirects(), true);
        List<String> extract = pick(job.extract(), defaults.extract(), List.of());
        boolean conditional = method.equals("GET") && pick(askedConditional, conditionalByDefault);
        boolean robots = pick(job.robots(), defaults.robots(), false);
        String headersJson = headers.isEmpty() ? null : toJson(headers);
        String normalized = url.normalized();
        byte[] hash = job.idempotencyKey() == null ? null : hash(normalized, method, headers, body, priority, runAt,
                schedule.delayMs(), maxAttempts, timeoutMs, maxBodyBytes, storeBody, followRedirects, extract, conditional,
                robots, metadata);
        return new NewJob(normalized, url.url().host(), method, headersJson, body, priority, runAt, delayMs,
                maxAttempts, timeoutMs, maxBodyBytes, storeBody, followRedirects, extract, conditional,
                job.idempotencyKey(), hash, metadataJson, robots);
    }

    private static <T> T pick(T job, T defaults, T setting) {
        return job != null ? job : defaults != null ? defaults : setting;
    }

    private static <T> T pick(T asked, T setting) {
        return asked != null ? asked : setting;
    }

    private static Map<String, String> mergeHeaders(Map<String, String> defaults, Map<String, String> job) {
        // Header names are case-insensitive: a job's "accept" replaces a default "Accept".
        Map<String, String> merged = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (defaults != null) {
            merged.putAll(defaults);
        }
        if (job != null) {
            job.keySet().forEach(merged::remove);
            merged.putAll(job);
        }
        return merged;
    }

    private static long headersSize(Map<String, String> headers) {
        long size = 0;
        for (Map.Entry<String, String> h : headers.entrySet()) {
            size += h.getKey().length() + h.getValue().length() + 4; // ": " and CRLF
        }
        return size;
    }

    private static ObjectNode mergeMetadata(ObjectNode defaults, ObjectNode job) {
        if (defaults == null || job == null) {
            return job != null ? job : defaults;
        }
        ObjectNode merged = defaults.deepCopy();
        merged.setAll(job);
        return merged;
    }

    private static String toJson(Map<String, String> headers) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        headers.forEach(node::put);
        return node.toString();
    }

    /** SHA-256 over a canonical form of everything that defines the request. */
    private static byte[] hash(String url, String method, Map<String, String> headers, byte[] body, int priority,
            Instant runAt, Long delayMs, int maxAttempts, int timeoutMs, int maxBodyBytes, boolean storeBody,
            boolean followRedirects, List<String> extract, boolean conditional, boolean robots, ObjectNode metadata) {
        StringBuilder canonical = new StringBuilder();
        List<String> parts = new ArrayList<>();
        parts.add(url);
        parts.add(method);
        headers.forEach((k, v) -> parts.add(k.toLowerCase(Locale.ROOT) + ":" + v));
        parts.add(body == null ? "-" : Base64.getEncoder().encodeToString(body));
        parts.add(Integer.toString(priority));
        parts.add(String.valueOf(runAt));
        parts.add(String.valueOf(delayMs));
        parts.add(maxAttempts + "/" + timeoutMs + "/" + maxBodyBytes + "/" + storeBody + "/" + followRedirects);
        parts.add(extract.stream().sorted().toList().toString());
        if (conditional) {
            // Only when set, so that keys used before the field existed still match their requests.
            parts.add("conditional");
        }
        if (robots) {
            parts.add("robots");
        }
        canonicalJson(metadata, canonical);
        parts.add(canonical.toString());
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : parts) {
                sha.update(part.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** JSON with object keys sorted, so that key order does not make two requests differ. */
    private static void canonicalJson(JsonNode node, StringBuilder out) {
        if (node == null) {
            out.append("null");
        } else if (node.isObject()) {
            out.append('{');
            List<String> names = new ArrayList<>(node.propertyNames());
            Collections.sort(names);
            boolean first = true;
            for (String name : names) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                out.append(JsonNodeFactory.instance.stringNode(name)).append(':');
                canonicalJson(node.get(name), out);
            }
            out.append('}');
        } else if (node.isArray()) {
            out.append('[');
            for (int i = 0; i < node.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                canonicalJson(node.get(i), out);
            }
            out.append(']');
        } else {
            out.append(node);
        }
    }
}
