package io.fetchq.api;

import static io.fetchq.api.JsonFields.absent;
import static io.fetchq.api.JsonFields.flag;

import io.fetchq.api.intake.Intake;
import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.Errors;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.Caller;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.db.BatchQueries;
import io.fetchq.db.CrawlLink;
import io.fetchq.db.CrawlQueries;
import io.fetchq.db.CrawlQueries.CrawlRow;
import io.fetchq.db.DbConfiguration;
import io.fetchq.db.Finished;
import io.fetchq.db.NewJob;
import io.fetchq.db.Notifier;
import io.fetchq.url.CrawlUrls;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import okhttp3.HttpUrl;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** Crawls: a batch that grows by its pages' links, within a scope and limits, obeying robots.txt. */
@Tag(name = "Crawls", description = "Follow links from seeds within a scope, each page once, politely")
@RestController
@RequestMapping("/api/v1/crawls")
class CrawlController {

    /** The most pages a crawl may enqueue. */
    static final int MAX_PAGES = 1_000_000;
    /** The deepest a crawl may go. */
    static final int MAX_DEPTH = 10_000;
    /** The most include or exclude patterns, and the longest of them. */
    static final int MAX_PATTERNS = 100;
    static final int MAX_PATTERN_LENGTH = 1000;

    private static final Set<String> FIELDS = Set.of("seeds", "scope", "include", "exclude", "max_depth", "max_pages",
            "max_pages_per_host", "sitemaps", "robots", "defaults");

    /** A crawl as the API shows it: its counts at the top level. */
    record CrawlResource(long id, long batchId, String state, boolean done, String scope, List<String> include,
            List<String> exclude, int maxDepth, int maxPages, Integer maxPagesPerHost, boolean sitemaps, String robots,
            long discovered, long enqueued, long fetched, long failed, long queued, long running, long skippedScope,
            long skippedRobots, long skippedDuplicate, long skippedLimit, long skippedNofollow,
            OffsetDateTime createdAt, OffsetDateTime finishedAt) {

        static CrawlResource of(CrawlRow c) {
            return new CrawlResource(c.id(), c.batchId(), c.state(), c.done(), c.scope(), c.include(), c.exclude(),
                    c.maxDepth(), c.maxPages(), c.maxPagesPerHost(), c.sitemaps(), c.robots() ? "obey" : "ignore",
                    c.discovered(), c.enqueued(), c.fetched(), c.failed(), c.queued(), c.running(), c.skippedScope(),
                    c.skippedRobots(), c.skippedDuplicate(), c.skippedLimit(), c.skippedNofollow(), c.createdAt(),
                    c.finishedAt());
        }
    }

    private final Intake intake;
    private final CrawlQueries crawls;
    private final BatchQueries batches;
    private final LongPoll longPoll;
    private final ApplicationEventPublisher events;
    private final Notifier finished;

    CrawlController(Intake intake, CrawlQueries crawls, BatchQueries batches, LongPoll longPoll,
            ApplicationEventPublisher events, @Qualifier(DbConfiguration.FINISHED_NOTIFIER) Notifier finished) {
        this.intake = intake;
        this.crawls = crawls;
        this.batches = batches;
        this.longPoll = longPoll;
        this.events = events;
        this.finished = finished;
    }

    @Operation(summary = "Start a crawl", description = "{\"seeds\": [URLs], \"scope\" (same-origin, same-host "
            + "(default) or same-site), \"include\" and \"exclude\" (regexes searched in each link's normalised URL), "
            + "\"max_depth\" (default 3), \"max_pages\" (default 1,000, at most 1,000,000; seeds count), "
            + "\"max_pages_per_host\", \"sitemaps\" (read the sitemaps robots.txt names, default false), \"robots\" "
            + "(obey (default) or ignore), \"defaults\" (job fields of every page)}. "
            + "Seeds are depth 0 and are not filtered; each page's links are followed once per crawl.")
    @Requires(Scope.SUBMIT)
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<CrawlResource> create(@Parameter(hidden = true) HttpServletRequest request, Caller caller) {
        JsonNode root = intake.json(intake.readBody(request));
        Errors errors = new Errors();
        if (!root.isObject()) {
            errors.add(FieldError.atPointer("", "must be a JSON object with \"seeds\""));
            errors.throwIfAny();
        }
        for (String field : root.propertyNames()) {
            if (!FIELDS.contains(field)) {
                errors.add(FieldError.atPointer("/" + field, "unknown field"));
            }
        }
        Intake.CrawlPages pages = intake.crawlPages(root, errors);
        CrawlUrls.Scope scope = CrawlUrls.Scope.SAME_HOST;
        if (!absent(root, "scope")) {
            try {
                scope = CrawlUrls.Scope.of(root.get("scope").asString(""));
            } catch (IllegalArgumentException e) {
                errors.add(FieldError.atPointer("/scope", e.getMessage()));
            }
        }
        List<String> include = patterns(root, "include", errors);
        List<String> exclude = patterns(root, "exclude", errors);
        int maxDepth = number(root, "max_depth", 3, 0, MAX_DEPTH, errors);
        int maxPages = number(root, "max_pages", 1000, 1, MAX_PAGES, errors);
        Integer maxPerHost = absent(root, "max_pages_per_host") ? null
                : number(root, "max_pages_per_host", 0, 1, MAX_PAGES, errors);
        Boolean sitemaps = flag(root, "sitemaps", errors);
        boolean robots = true;
        if (!absent(root, "robots")) {
            String value = root.get("robots").asString("");
            if (!value.equals("obey") && !value.equals("ignore")) {
                errors.add(FieldError.atPointer("/robots", "must be obey or ignore"));
            }
            robots = !value.equals("ignore");
        }
        if (pages != null && pages.secretHeaders() && scope != CrawlUrls.Scope.SAME_ORIGIN) {
            // Every page gets the crawl's headers: credentials go only where the seeds' origins are.
            errors.add(FieldError.atPointer("/defaults/headers", "a crawl that sends credentials (a secret header) "
                    + "must have scope same-origin, so that they go to no other origin"));
        }
        if (pages != null && pages.seeds().size() > maxPages) {
            errors.add(FieldError.atPointer("/seeds", "more seeds (" + pages.seeds().size() + ") than max_pages ("
                    + maxPages + "): seeds count as pages"));
        }
        errors.throwIfAny();
        NewJob page = pages.template();
        Set<String> scopeKeys = new LinkedHashSet<>();
        List<CrawlLink> seeds = new ArrayList<>(pages.seeds().size());
        for (NewJob seed : pages.seeds()) {
            HttpUrl url = HttpUrl.get(seed.url());
            scopeKeys.add(CrawlUrls.scopeKey(scope, url));
            seeds.add(new CrawlLink(0, null, 0, seed.url(), CrawlUrls.keyHash(url), seed.host(), null));
        }
        CrawlRow created = crawls.create(caller.tenant(), new CrawlQueries.NewCrawl(scope.code(), List.copyOf(scopeKeys),
                include, exclude, maxDepth, maxPages, maxPerHost, Boolean.TRUE.equals(sitemaps), robots, page.headersJson(), page.priority(),
                page.maxAttempts(), page.timeoutMs(), page.maxBodyBytes(), page.storeBody(), page.followRedirects(),
                page.extract(), page.metadataJson(), seeds));
        events.publishEvent(new InProcessWorker.JobsSubmitted());
        return ResponseEntity.created(URI.create("/api/v1/crawls/" + created.id())).body(CrawlResource.of(created));
    }

    @Operation(summary = "List crawls", description = "Newest first; pass the last id as before_id for more.")
    @Requires(Scope.READ)
    @GetMapping
    List<CrawlResource> list(Caller caller,
            @Parameter(description = "crawls to list, 1 to 1000 (default 100)")
            @RequestParam(required = false, defaultValue = "100") int limit,
            @RequestParam(name = "before_id", required = false, defaultValue = "" + Long.MAX_VALUE) long beforeId) {
        Listings.checkLimit(limit);
        return crawls.list(beforeId, limit, caller.visibleTenant()).stream().map(CrawlResource::of).toList();
    }

    @Operation(summary = "Read a crawl", description = "Its counts; with wait_ms, holds the answer until it is done "
            + "or the time is up.")
    @Requires(Scope.READ)
    @GetMapping("/{id}")
    CrawlResource get(@PathVariable long id, @RequestParam(name = "wait_ms", required = false) Long waitMs,
            Caller caller) {
        CrawlRow crawl = crawls.find(id, caller.visibleTenant()).orElseThrow(() -> notFound(id));
        if (waitMs == null || waitMs <= 0 || crawl.done()) {
            return CrawlResource.of(crawl);
        }
        return longPoll.await(waitMs, Finished.batchKey(crawl.batchId()), () -> batches.isDone(crawl.batchId()),
                () -> crawls.find(id, caller.visibleTenant())).map(CrawlResource::of).orElseThrow(() -> notFound(id));
    }

    @Operation(summary = "Cancel a crawl", description = "No more links are followed; queued pages are cancelled at "
            + "once and running ones at their next step.")
    @Requires(Scope.SUBMIT)
    @PostMapping("/{id}/cancel")
    CrawlResource cancel(@PathVariable long id, Caller caller) {
        CrawlRow crawl = crawls.cancel(id, caller.visibleTenant(), batches).orElseThrow(() -> notFound(id));
        finished.announce(List.of(Finished.batchKey(crawl.batchId())));
        return CrawlResource.of(crawl);
    }

    private static List<String> patterns(JsonNode root, String field, Errors errors) {
        if (absent(root, field)) {
            return List.of();
        }
        JsonNode node = root.get(field);
        if (!node.isArray() || node.size() > MAX_PATTERNS) {
            errors.add(FieldError.atPointer("/" + field, "must be an array of at most " + MAX_PATTERNS + " regexes"));
            return List.of();
        }
        List<String> patterns = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            String pointer = "/" + field + "/" + i;
            JsonNode p = node.get(i);
            if (!p.isString() || p.stringValue().isEmpty() || p.stringValue().length() > MAX_PATTERN_LENGTH
                    || p.stringValue().indexOf('\u0000') >= 0 || p.stringValue().indexOf('\u0001') >= 0) {
                errors.add(FieldError.atPointer(pointer, "must be a regex of 1 to " + MAX_PATTERN_LENGTH + " characters"));
                continue;
            }
            try {
                Pattern.compile(p.stringValue());
                patterns.add(p.stringValue());
            } catch (PatternSyntaxException e) {
                errors.add(FieldError.atPointer(pointer, "is not a valid regex: " + e.getDescription()));
            }
        }
        return patterns;
    }

    private static int number(JsonNode root, String field, int fallback, int min, int max, Errors errors) {
        if (absent(root, field)) {
            return fallback;
        }
        JsonNode node = root.get(field);
        if (!node.isIntegralNumber() || node.asLong() < min || node.asLong() > max) {
            errors.add(FieldError.atPointer("/" + field, "must be an integer from " + min + " to " + max));
            return fallback;
        }
        return node.asInt();
    }

    private static ApiProblem notFound(long id) {
        return ApiProblem.notFound("crawl " + id);
    }
}
