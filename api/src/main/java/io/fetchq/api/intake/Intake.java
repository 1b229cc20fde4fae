package io.fetchq.api.intake;

import io.fetchq.api.IntakeProperties;
import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.Errors;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.HeaderRedaction;
import io.fetchq.db.NewJob;
import io.fetchq.url.UrlPolicy;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads submissions in their three shapes (one job as JSON, a JSON batch of {@code jobs} or
 * {@code urls}, a text/plain batch of one URL per line) into jobs ready to insert. Everything is
 * checked before anything is written; all problems are reported at once.
 */
@Component
public class Intake {

    private static final Set<String> BATCH_FIELDS = Set.of("defaults", "jobs", "urls");
    private static final Set<String> INTEGER_PARAMETERS =
            Set.of("priority", "delay_ms", "max_attempts", "timeout_ms", "max_body_bytes");
    private static final Set<String> BOOLEAN_PARAMETERS = Set.of("store_body", "follow_redirects", "conditional");

    private final IntakeProperties limits;
    private final JsonMapper json;
    private final JobFieldsParser fields;
    private final JobResolver resolver;
    private final HeaderRedaction secrets;

    public Intake(IntakeProperties limits, UrlPolicy urlPolicy, HeaderRedaction secrets) {
        this.limits = limits;
        this.secrets = secrets;
        this.json = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        this.fields = new JobFieldsParser(limits);
        this.resolver = new JobResolver(limits, urlPolicy);
    }

    /** The request body, refused with {@code 413} beyond {@code fetchq.intake.max-request-size}. */
    public byte[] readBody(HttpServletRequest request) {
        long max = limits.maxRequestSize().toBytes();
        if (request.getContentLengthLong() > max) {
            throw tooLarge(request.getContentLengthLong());
        }
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (body.length > max) {
                throw tooLarge(-1);
            }
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ApiProblem tooLarge(long length) {
        return new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "Request too large",
                "request body " + (length >= 0 ? "of " + length + " bytes " : "")
                        + "exceeds " + limits.maxRequestSize().toBytes() + " bytes (fetchq.intake.max-request-size)");
    }

    /** One job: the body of {@code POST /api/v1/jobs}. */
    public NewJob job(byte[] body) {
        JsonNode root = readJson(body);
        Errors errors = new Errors();
        JobFields job = fields.parse(root, Where.json(""), false, errors);
        NewJob resolved = root.isObject() ? resolver.resolve(job, JobFields.NONE, Where.json(""), errors) : null;
        errors.throwIfAny();
        return resolved;
    }

    /** A JSON batch: {@code {"defaults": {...}, "jobs": [...]}} or {@code {"defaults": {...}, "urls": [...]}}. */
    public List<NewJob> jsonBatch(byte[] body) {
        JsonNode root = readJson(body);
        Errors errors = new Errors();
        List<NewJob> jobs = jobsOf(root, Set.of(), limits.maxBatchJobs(), false, errors);
        errors.throwIfAny();
        return jobs;
    }

    /** A request body as JSON; a {@code 400} naming where it does not parse. */
    public JsonNode json(byte[] body) {
        return readJson(body);
    }

    /** The most jobs of a schedule's run. */
    public static final int MAX_SCHEDULE_JOBS = 10_000;

    /**
     * The jobs of a schedule's runs from {@code root}'s {@code jobs} or {@code urls} and
     * {@code defaults}, as in a batch but at most {@link #MAX_SCHEDULE_JOBS}, and without what
     * would make each run's jobs differ from the last's or wait: {@code idempotency_key},
     * {@code run_at} and {@code delay_ms}. Adds what is wrong to {@code errors}.
     *
     * @param otherFields the schedule's own fields, allowed beside these
     */
    public List<NewJob> scheduleJobs(JsonNode root, Set<String> otherFields, Errors errors) {
        return jobsOf(root, otherFields, MAX_SCHEDULE_JOBS, true, errors);
    }

    private List<NewJob> jobsOf(JsonNode root, Set<String> otherFields, int maxJobs, boolean forSchedule, Errors errors) {
        if (!root.isObject()) {
            errors.add(FieldError.atPointer("", "must be a JSON object with \"jobs\" or \"urls\""));
            errors.throwIfAny();
        }
        for (String name : root.propertyNames()) {
            if (!BATCH_FIELDS.contains(name) && !otherFields.contains(name)) {
                errors.add(FieldError.atPointer("/" + name, "unknown field"));
            }
        }
        JsonNode jobs = root.get("jobs");
        JsonNode urls = root.get("urls");
        if (jobs != null && urls != null) {
            errors.add(FieldError.atPointer("/urls", "give either jobs or urls, not both"));
        }
        String listName = jobs != null ? "jobs" : "urls";
        JsonNode list = jobs != null ? jobs : urls;
        String what = forSchedule ? "a schedule" : "a batch";
        if (list == null) {
            errors.add(FieldError.atPointer("", what + " needs \"jobs\" or \"urls\""));
        } else if (!list.isArray()) {
            errors.add(FieldError.atPointer("/" + listName, "must be an array"));
        } else if (list.isEmpty()) {
            errors.add(FieldError.atPointer("/" + listName, what + " needs at least one job"));
        }
        if (list == null || !list.isArray() || list.isEmpty()) {
            errors.throwIfAny();
        }
        if (forSchedule) {
            if (list.size() > maxJobs) {
                errors.add(FieldError.atPointer("/" + listName, "a schedule has at most " + maxJobs + " jobs, found " + list.size()));
                errors.throwIfAny();
            }
        } else {
            errors.throwIfAny();
            checkBatchSize(list.size());
        }
        JobFields defaults = fields.parse(root.get("defaults"), Where.json("/defaults"), true, errors);
        if (forSchedule) {
            rejectPerRunFields(defaults, "/defaults", errors);
        }
        List<NewJob> resolved = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String pointer = "/" + listName + "/" + i;
            JobFields job;
            if (jobs != null) {
                job = fields.parse(list.get(i), Where.json(pointer), false, errors);
                if (!list.get(i).isObject()) {
                    resolved.add(null);
                    continue;
                }
                if (forSchedule) {
                    rejectPerRunFields(job, pointer, errors);
                }
            } else if (list.get(i).isString()) {
                job = JobFields.url(list.get(i).stringValue());
            } else {
                errors.add(FieldError.atPointer(pointer, "must be a URL string"));
                resolved.add(null);
                continue;
            }
            Where where = jobs != null ? Where.json(pointer) : Where.item(pointer);
            resolved.add(resolver.resolve(job, defaults, forSchedule, where, errors));
        }
        rejectRepeatedKeys(resolved, i -> FieldError.atPointer("/jobs/" + i + "/idempotency_key",
                "repeats the idempotency_key of an earlier job in this batch"), errors);
        return resolved;
    }

    /** The most seeds of a crawl. */
    public static final int MAX_SEEDS = 10_000;

    /**
     * A crawl's seeds, resolved with its defaults, and the request every one of its pages makes.
     *
     * @param template the request of every page (its URL the first seed's)
     */
    public record CrawlPages(List<NewJob> seeds, NewJob template, boolean secretHeaders) {
    }

    /**
     * The seeds and pages of a crawl from {@code root}'s {@code seeds} (URL strings) and
     * {@code defaults} (job fields without what a crawl decides itself: a crawl's pages are GETs
     * due now, with no body, idempotency key or conditional request, and robots.txt is the crawl's
     * {@code robots}). Pages extract title and links unless the defaults say otherwise. Adds what is
     * wrong to {@code errors}; null when the seeds cannot be read.
     */
    public CrawlPages crawlPages(JsonNode root, Errors errors) {
        JobFields defaults = fields.parse(root.get("defaults"), Where.json("/defaults"), true, errors);
        String[] notForCrawls = {"method", "body", "body_base64", "run_at", "delay_ms", "idempotency_key",
            "conditional", "robots"};
        JsonNode given = root.get("defaults");
        if (given != null && given.isObject()) {
            for (String field : notForCrawls) {
                if (given.has(field)) {
                    errors.add(FieldError.atPointer("/defaults/" + field, field.equals("robots")
                            ? "a crawl's robots is its own field, beside defaults"
                            : "not allowed in a crawl: its pages are GETs due now"));
                }
            }
        }
        if (defaults.extract() == null) {
            defaults = defaults.withExtract(List.of("title", "links"));
        }
        JsonNode seeds = root.get("seeds");
        if (seeds == null || seeds.isNull()) {
            errors.add(FieldError.atPointer("/seeds", "is required: the URLs the crawl starts from"));
            return null;
        }
        if (!seeds.isArray() || seeds.isEmpty()) {
            errors.add(FieldError.atPointer("/seeds", "must be a non-empty array of URLs"));
            return null;
        }
        if (seeds.size() > MAX_SEEDS) {
            errors.add(FieldError.atPointer("/seeds", "a crawl has at most " + MAX_SEEDS + " seeds, found " + seeds.size()));
            return null;
        }
        List<NewJob> resolved = new ArrayList<>(seeds.size());
        for (int i = 0; i < seeds.size(); i++) {
            String pointer = "/seeds/" + i;
            if (!seeds.get(i).isString()) {
                errors.add(FieldError.atPointer(pointer, "must be a URL string"));
                continue;
            }
            NewJob seed = resolver.resolve(JobFields.url(seeds.get(i).stringValue()), defaults, Where.item(pointer), errors);
            if (seed != null) {
                resolved.add(seed);
            }
        }
        if (resolved.size() < seeds.size()) {
            return null;
        }
        boolean secret = defaults.headers() != null && defaults.headers().keySet().stream().anyMatch(secrets::isSecret);
        return new CrawlPages(resolved, resolved.getFirst(), secret);
    }

    /** A schedule's jobs run at the schedule's times, each run with jobs of its own. */
    private static void rejectPerRunFields(JobFields job, String pointer, Errors errors) {
        if (job.idempotencyKey() != null) {
            errors.add(FieldError.atPointer(pointer + "/idempotency_key",
                    "not allowed in a schedule: each run is its own batch, keyed by the schedule and its time"));
        }
        if (job.runAt() != null) {
            errors.add(FieldError.atPointer(pointer + "/run_at", "not allowed in a schedule: its runs are due at its times"));
        }
        if (job.delayMs() != null) {
            errors.add(FieldError.atPointer(pointer + "/delay_ms", "not allowed in a schedule: its runs are due at its times"));
        }
    }

    /** A text/plain batch: one URL per line, blank and {@code #} lines skipped, defaults as query parameters. */
    public List<NewJob> textBatch(byte[] body, Map<String, String[]> parameters) {
        Errors errors = new Errors();
        JobFields defaults = fields.parse(queryDefaults(parameters, errors), Where.query(), true, errors);
        String text = new String(body, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1);
        List<Integer> urlLines = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (!line.isEmpty() && !line.startsWith("#")) {
                urlLines.add(i);
            }
        }
        if (urlLines.isEmpty()) {
            errors.add(FieldError.atLine(1, "a batch needs at least one URL line"));
            errors.throwIfAny();
        }
        checkBatchSize(urlLines.size());
        List<NewJob> resolved = new ArrayList<>(urlLines.size());
        for (int index : urlLines) {
            resolved.add(resolver.resolve(JobFields.url(lines[index].strip()), defaults, Where.line(index + 1), errors));
        }
        errors.throwIfAny();
        return resolved;
    }

    private void checkBatchSize(int size) {
        if (size > limits.maxBatchJobs()) {
            throw new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "Batch too large",
                    "batch has " + size + " jobs; at most " + limits.maxBatchJobs()
                            + " per request (fetchq.intake.max-batch-jobs)");
        }
    }

    private interface IndexedError {
        FieldError at(int index);
    }

    private static void rejectRepeatedKeys(List<NewJob> jobs, IndexedError error, Errors errors) {
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            NewJob job = jobs.get(i);
            if (job != null && job.idempotencyKey() != null && seen.putIfAbsent(job.idempotencyKey(), i) != null) {
                errors.add(error.at(i));
            }
        }
    }

    private JsonNode readJson(byte[] body) {
        if (body.length == 0) {
            throw ApiProblem.invalid(List.of(FieldError.atPointer("", "request body is empty")), 1);
        }
        try {
            return json.readTree(body);
        } catch (JacksonException e) {
            var location = e.getLocation();
            String where = location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
            String detail = "request body is not valid JSON" + where + ": " + withoutTokens(e.getOriginalMessage());
            // The pointer "" is the whole document: there is no field to name in text that does not parse.
            throw new ApiProblem(HttpStatus.BAD_REQUEST, "Malformed JSON", detail,
                    List.of(FieldError.atPointer("", detail)), 1);
        }
    }

    /**
     * A parser's message without the text it could not read ("Unrecognized token 'abc'"): that text
     * may be part of a credential in a header, and an answer never repeats one.
     */
    static String withoutTokens(String message) {
        return message == null ? "" : message.replaceAll("(?s)^Unrecognized token '.*?':", "Unrecognized token:");
    }

    /** The query parameters of a text batch as a defaults object, typed like the JSON fields. */
    private ObjectNode queryDefaults(Map<String, String[]> parameters, Errors errors) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        ObjectNode defaults = nodes.objectNode();
        for (Map.Entry<String, String[]> parameter : parameters.entrySet()) {
            String name = parameter.getKey();
            String[] values = parameter.getValue();
            if (name.equals("header")) {
                ObjectNode headers = defaults.putObject("headers");
                for (String header : values) {
                    int colon = header.indexOf(':');
                    if (colon <= 0) {
                        // Not the value itself: it may be a credential.
                        errors.add(FieldError.atParameter("header", "must be \"Name: value\" (no name and colon found)"));
                    } else if (secrets.isSecret(header.substring(0, colon).strip())) {
                        errors.add(FieldError.atParameter("header", header.substring(0, colon).strip() + " is a secret "
                                + "header (fetchq.fetch.secret-headers) and query strings end up in logs: send it in "
                                + "a JSON batch's defaults.headers"));
                    } else {
                        headers.put(header.substring(0, colon).strip(), header.substring(colon + 1).strip());
                    }
                }
                continue;
            }
            if (values.length != 1) {
                errors.add(FieldError.atParameter(name, "is given more than once"));
                continue;
            }
            String value = values[0];
            if (INTEGER_PARAMETERS.contains(name)) {
                try {
                    defaults.put(name, Long.parseLong(value.strip()));
                } catch (NumberFormatException e) {
                    errors.add(FieldError.atParameter(name, "must be an integer"));
                }
            } else if (BOOLEAN_PARAMETERS.contains(name)) {
                if (value.equals("true") || value.equals("false")) {
                    defaults.put(name, Boolean.parseBoolean(value));
                } else {
                    errors.add(FieldError.atParameter(name, "must be true or false"));
                }
            } else if (name.equals("extract")) {
                var list = defaults.putArray("extract");
                for (String item : value.split(",")) {
                    if (!item.isBlank()) {
                        list.add(item.strip());
                    }
                }
            } else if (name.equals("metadata")) {
                try {
                    defaults.set("metadata", json.readTree(value));
                } catch (JacksonException e) {
                    errors.add(FieldError.atParameter(name, "must be a JSON object"));
                }
            } else {
                defaults.put(name, value);
            }
        }
        return defaults;
    }
}
