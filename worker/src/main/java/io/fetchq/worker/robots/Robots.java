package io.fetchq.worker.robots;

import crawlercommons.robots.BaseRobotRules;
import crawlercommons.robots.SimpleRobotRulesParser;
import io.fetchq.db.Claim;
import io.fetchq.db.ClaimedJob;
import io.fetchq.db.RobotsQueries;
import io.fetchq.url.CrawlUrls;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.fetch.ErrorKind;
import io.fetchq.worker.fetch.FetchCancellation;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.Fetcher;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.HttpUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * robots.txt by RFC 9309 for the jobs that obey it: each origin's file is fetched by one worker of
 * the fleet at a time (a lease on its row in {@code fetchq.robots_txt}), kept there for every
 * worker, and parsed here by crawler-commons' {@link SimpleRobotRulesParser} (groups matched by the
 * product token of our {@code User-Agent}; the longest matching rule wins, {@code Allow} on a tie;
 * {@code *} and {@code $}).
 *
 * <p>What an answer means (RFC 9309, 2.3.1): a 2xx gives the rules (the first 512 KiB of them); a
 * 4xx other than 429 allows everything; a 5xx, a 429 or no answer at all disallows everything for
 * now: the job waits, queued, without spending an attempt, while the last good copy serves for up
 * to {@code keep-good}; after {@code max-wait} with neither, the job fails ({@code robots}). Up to
 * five redirects are followed, each hop judged by the URL policy; more, or a hop the policy refuses,
 * count as no robots.txt (allow). A host whose name does not resolve gets nothing from us either
 * way: its job goes on to fail with its own {@code dns} error.
 */
public final class Robots {

    private static final Logger log = LoggerFactory.getLogger(Robots.class);

    /** The most of a robots.txt that is read and parsed (RFC 9309 asks for at least 500 KiB). */
    public static final int MAX_BYTES = 512 * 1024;
    /** Redirects followed to a robots.txt (RFC 9309: at least five). */
    public static final int MAX_REDIRECTS = 5;
    /** The longest Crawl-delay obeyed: a site asking for more gets a request every 30 s. */
    public static final Duration MAX_CRAWL_DELAY = Duration.ofSeconds(30);
    /** The longest an unreachable origin waits before it is tried again. */
    static final Duration MAX_RETRY = Duration.ofHours(1);
    /** How long a job waits while another worker fetches its origin's first copy. */
    static final Duration WAIT_FOR_OTHER = Duration.ofSeconds(1);

    /** What the rules say of one URL. */
    public sealed interface Verdict {
        /** Fetch it. */
        record Allowed() implements Verdict {
        }

        /** Never fetch it: the job fails with {@code error_kind = robots}. */
        record Refused(String reason) implements Verdict {
        }

        /** Not now: the job goes back to the queue for {@code ms}, its attempt not spent. */
        record Wait(long ms, String reason) implements Verdict {
        }
    }

    private static final Verdict ALLOWED = new Verdict.Allowed();

    /** An origin's rules as this worker holds them, used until {@code until}. */
    private record Rules(String origin, BaseRobotRules rules, Instant until, Instant unreachableSince, String why) {
        /** No rules: everything waits (or, past the wait, fails) until {@code until}. */
        boolean none() {
            return rules == null;
        }
    }

    private final RobotsQueries db;
    private final Fetcher fetcher;
    private final WorkerProperties.RobotsSettings settings;
    private final String workerId;
    private final Clock clock;
    private final List<String> agents;
    private final Map<String, Rules> cache = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Rules>> loading = new ConcurrentHashMap<>();

    public Robots(RobotsQueries db, Fetcher fetcher, WorkerProperties.RobotsSettings settings, String workerId,
            Clock clock) {
        this.db = db;
        this.fetcher = fetcher;
        this.settings = settings;
        this.workerId = workerId;
        this.clock = clock;
        this.agents = List.of(productToken(fetcher.userAgent()));
    }

    /**
     * The product token robots.txt groups are matched against: the {@code User-Agent} up to its
     * first {@code /} or space, lower-case ({@code fetchq/0.1 (+https://…)} → {@code fetchq}).
     */
    public static String productToken(String userAgent) {
        String token = userAgent.strip();
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == '/' || c == ' ' || c == ';' || c == '(') {
                token = token.substring(0, i);
                break;
            }
        }
        return token.isEmpty() ? "fetchq" : token.toLowerCase(Locale.ROOT);
    }

    /** What the rules of {@code url}'s origin say of it, fetching them first when this worker has none fresh. */
    public Verdict check(String url) {
        HttpUrl parsed = HttpUrl.parse(url);
        if (parsed == null) {
            return ALLOWED; // not fetchable at all: the fetch says why
        }
        Rules rules = rules(CrawlUrls.origin(parsed));
        Instant now = clock.instant();
        if (!rules.none()) {
            return rules.rules().isAllowed(url) ? ALLOWED
                    : new Verdict.Refused("disallowed by " + rules.origin() + "/robots.txt");
        }
        if (rules.unreachableSince() != null
                && !now.isBefore(rules.unreachableSince().plus(settings.maxWait()))) {
            return new Verdict.Refused(rules.why() + "; its jobs wait at most " + settings.maxWait());
        }
        return new Verdict.Wait(Math.max(100, Duration.between(now, rules.until()).toMillis()), rules.why());
    }

    /** The sitemaps the robots.txt of {@code url}'s origin names (fetching it when this worker has none fresh). */
    public List<String> sitemaps(String url) {
        HttpUrl parsed = HttpUrl.parse(url);
        if (parsed == null) {
            return List.of();
        }
        Rules rules = rules(CrawlUrls.origin(parsed));
        return rules.none() ? List.of() : rules.rules().getSitemaps();
    }

    private Rules rules(String origin) {
        Rules cached = cache.get(origin);
        if (cached != null && clock.instant().isBefore(cached.until())) {
            return cached;
        }
        CompletableFuture<Rules> mine = new CompletableFuture<>();
        CompletableFuture<Rules> running = loading.putIfAbsent(origin, mine);
        if (running != null) {
            return running.join();
        }
        try {
            Rules rules = load(origin);
            if (cache.size() >= settings.cachedOrigins()) {
                cache.clear();
            }
            cache.put(origin, rules);
            mine.complete(rules);
            return rules;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            loading.remove(origin, mine);
        }
    }

    /** The origin's rules from the fleet's copy; fetched here when it is due and no other worker fetches it. */
    private Rules load(String origin) {
        Instant now = clock.instant();
        Optional<RobotsQueries.Copy> copy = db.find(origin);
        if (copy.isPresent() && now.isBefore(copy.get().expiresAt())) {
            return of(copy.get(), now);
        }
        if (db.takeFetch(origin, workerId, now, now.plus(settings.timeout()).plusSeconds(10))) {
            Rules direct = fetch(origin, copy.map(RobotsQueries.Copy::failures).orElse(0));
            return direct != null ? direct : of(db.find(origin).orElseThrow(), clock.instant());
        }
        // Another worker fetches it now: its last good copy serves meanwhile, else wait a moment.
        copy = db.find(origin);
        Instant soon = now.plus(WAIT_FOR_OTHER);
        if (copy.isPresent()) {
            Rules stale = of(copy.get(), now);
            if (!stale.none()) {
                return new Rules(origin, stale.rules(), soon, null, null);
            }
            return new Rules(origin, null, soon, stale.unreachableSince(), stale.why());
        }
        return new Rules(origin, null, soon, null, "robots.txt of " + origin + " is being fetched");
    }

    /** Rules from a copy: its answer's, or the last good copy's while it may serve, else none. */
    private Rules of(RobotsQueries.Copy copy, Instant now) {
        Instant until = copy.expiresAt();
        boolean goodServes = copy.goodAt() != null
                && (copy.unreachableSince() == null || now.isBefore(copy.goodAt().plus(settings.keepGood())));
        if (goodServes) {
            return new Rules(copy.origin(), parse(copy), until, null, null);
        }
        if (copy.unreachableSince() == null) {
            // Not fetched yet: its first fetch is under way.
            return new Rules(copy.origin(), null, until, null, "robots.txt of " + copy.origin() + " is being fetched");
        }
        String why = "robots.txt of " + copy.origin() + " unreachable since " + copy.unreachableSince()
                + (copy.statusCode() != null ? " (status " + copy.statusCode() + ")" : " (" + copy.error() + ")");
        // Jobs wait from when the origin left them without rules: its failure, or the end of its good copy.
        Instant withoutRules = copy.unreachableSince();
        if (copy.goodAt() != null && copy.goodAt().plus(settings.keepGood()).isAfter(withoutRules)) {
            withoutRules = copy.goodAt().plus(settings.keepGood());
        }
        return new Rules(copy.origin(), null, until, withoutRules, why);
    }

    private BaseRobotRules parse(RobotsQueries.Copy copy) {
        if (copy.goodStatus() == null || copy.goodStatus() < 200 || copy.goodStatus() >= 300 || copy.body() == null) {
            return ALLOW_ALL;
        }
        return parse(copy.origin() + "/robots.txt", copy.body());
    }

    private BaseRobotRules parse(String url, byte[] body) {
        SimpleRobotRulesParser parser = new SimpleRobotRulesParser();
        // Any Crawl-delay is obeyed (capped here): crawler-commons would treat a long one as "disallow all".
        parser.setMaxCrawlDelay(Long.MAX_VALUE);
        return parser.parseContent(url, body, "text/plain", agents);
    }

    private static final BaseRobotRules ALLOW_ALL =
            new crawlercommons.robots.SimpleRobotRules(crawlercommons.robots.SimpleRobotRules.RobotRulesMode.ALLOW_ALL);

    /**
     * Fetches the origin's robots.txt and records what it answered for the fleet.
     *
     * @param failures the origin's failures in a row before this fetch
     * @return rules for this worker alone when the answer is not to be recorded, else null
     */
    private Rules fetch(String origin, int failures) {
        String url = origin + "/robots.txt";
        HttpUrl parsed = HttpUrl.parse(url);
        Instant started = clock.instant();
        ClaimedJob request = new ClaimedJob(new Claim(0, UUID.randomUUID(), 1), 1, 1, url, parsed.host(), "GET", null,
                null, (int) settings.timeout().toMillis(), MAX_BYTES, false, true, List.of(), null, false, null);
        FetchOutcome outcome;
        try {
            outcome = fetcher.fetch(request, new FetchCancellation(), MAX_REDIRECTS);
        } catch (RuntimeException e) {
            outcome = new FetchOutcome.Failure(ErrorKind.PROTOCOL, e.toString(), List.of(), null);
        }
        Instant at = clock.instant();
        if (outcome instanceof FetchOutcome.Response r) {
            try {
                int status = r.status();
                if (status >= 200 && status < 300) {
                    BaseRobotRules rules = parse(url, r.body());
                    db.storeAnswer(origin, parsed.host(), at, status, r.body(), crawlDelayMs(rules),
                            at.plus(settings.freshness()));
                } else if (status == 429 || status >= 500) {
                    unreachable(origin, failures, at, status, "status " + status);
                } else {
                    // 4xx: no robots.txt, allow all. (A 3xx here has no Location, or one OkHttp cannot read.)
                    db.storeAnswer(origin, parsed.host(), at, status, null, null, at.plus(settings.freshness()));
                }
            } finally {
                r.memory().release();
            }
            return null;
        }
        FetchOutcome.Failure failure = (FetchOutcome.Failure) outcome;
        log.debug("[{}] robots.txt of {}: {} ({}) after {} ms", workerId, origin, failure.kind().code(),
                failure.message(), Duration.between(started, at).toMillis());
        switch (failure.kind()) {
            case TOO_MANY_REDIRECTS, BLOCKED -> {
                // RFC 9309 counts more than five redirects as unavailable (allow all); a hop the
                // policy refuses is never fetched, which is the same to us.
                db.storeAnswer(origin, parsed.host(), at,
                        failure.redirects().isEmpty() ? null : failure.redirects().getLast().status(), null, null,
                        at.plus(settings.freshness()));
                return null;
            }
            case DNS -> {
                // A name that does not resolve gets no request, from this worker or from the job:
                // the job goes on to fail with its own dns error. Nothing is recorded for the fleet.
                db.releaseFetch(origin, workerId);
                return new Rules(origin, ALLOW_ALL, at.plus(settings.retryUnreachable()), null, null);
            }
            default -> {
                unreachable(origin, failures, at, null, failure.kind().code() + ": " + failure.message());
                return null;
            }
        }
    }

    private void unreachable(String origin, int failures, Instant at, Integer status, String error) {
        Duration retry = settings.retryUnreachable().multipliedBy(1L << Math.min(failures, 20));
        if (retry.compareTo(MAX_RETRY) > 0) {
            retry = MAX_RETRY;
        }
        db.storeUnreachable(origin, at, status, error.length() > 500 ? error.substring(0, 500) : error, at.plus(retry));
    }

    /** The Crawl-delay in milliseconds, capped at {@link #MAX_CRAWL_DELAY}; null when there is none. */
    static Integer crawlDelayMs(BaseRobotRules rules) {
        long delay = rules.getCrawlDelay();
        if (delay == BaseRobotRules.UNSET_CRAWL_DELAY || delay <= 0) {
            return null;
        }
        return (int) Math.min(delay, MAX_CRAWL_DELAY.toMillis());
    }
}
