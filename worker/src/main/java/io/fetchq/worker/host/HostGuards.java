package io.fetchq.worker.host;

import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.time.Ticker;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedRateLimiterMetrics;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.RequestNotPermitted;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link HostGuard} per target host, built from Resilience4j registries and evicted when
 * idle: registries never forget an instance, so a crawl over a million hosts would otherwise grow
 * without bound.
 */
public final class HostGuards {

    /** Longest a fetch queues for its host's bulkhead or rate limiter; the claim is heartbeated meanwhile. */
    static final Duration MAX_QUEUE_WAIT = Duration.ofMinutes(10);

    /**
     * Longest a breaker stays half-open waiting for its trial calls to end before it opens again: a
     * backstop, longer than any trial can queue and fetch, so that a trial lost to a bug cannot
     * keep a host half-open, and so claimed by nobody, for ever.
     */
    static final Duration TRIAL_WINDOW_LIMIT = Duration.ofMinutes(15);

    private final WorkerProperties properties;
    private final Ticker ticker;
    private final BulkheadRegistry bulkheads = BulkheadRegistry.ofDefaults();
    private final RateLimiterRegistry rateLimiters = RateLimiterRegistry.ofDefaults();
    private final CircuitBreakerRegistry breakers;
    /**
     * The guards of the hosts named in {@code fetchq.worker.metrics-hosts} live in registries of their
     * own, bound to the meter registry: only those hosts get series labelled with their name.
     */
    private final BulkheadRegistry meteredBulkheads = BulkheadRegistry.ofDefaults();
    private final RateLimiterRegistry meteredRateLimiters = RateLimiterRegistry.ofDefaults();
    private final CircuitBreakerRegistry meteredBreakers;
    private final ConcurrentHashMap<String, HostGuard> guards = new ConcurrentHashMap<>();

    public HostGuards(WorkerProperties properties) {
        this(properties, Ticker.SYSTEM);
    }

    /** As above, on {@code ticker}'s time. */
    public HostGuards(WorkerProperties properties, Ticker ticker) {
        this.properties = properties;
        this.ticker = ticker;
        CircuitBreakerConfig breakerConfig = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(properties.breakerWindow())
                .minimumNumberOfCalls(properties.breakerMinimumCalls())
                .failureRateThreshold(properties.breakerFailureRate())
                .waitDurationInOpenState(properties.breakerOpenFor())
                .permittedNumberOfCallsInHalfOpenState(properties.breakerTrialCalls())
                .maxWaitDurationInHalfOpenState(TRIAL_WINDOW_LIMIT)
                // A full bulkhead or an exhausted rate limit says nothing about the host's health.
                .ignoreExceptions(BulkheadFullException.class, RequestNotPermitted.class)
                .build();
        this.breakers = CircuitBreakerRegistry.of(breakerConfig);
        this.meteredBreakers = CircuitBreakerRegistry.of(breakerConfig);
    }

    /**
     * Publishes the Resilience4j bulkhead, rate limiter and circuit breaker metrics of the hosts in
     * {@code fetchq.worker.metrics-hosts} (tagged with the host), and for all hosts together how many
     * are tracked and how many have a breaker in each state (bounded cardinality).
     */
    public void bindMetrics(MeterRegistry registry) {
        TaggedBulkheadMetrics.ofBulkheadRegistry(meteredBulkheads).bindTo(registry);
        TaggedRateLimiterMetrics.ofRateLimiterRegistry(meteredRateLimiters).bindTo(registry);
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(meteredBreakers).bindTo(registry);
        Gauge.builder("fetchq.hosts.tracked", guards, Map::size)
                .description("Hosts this worker keeps limiters and breakers for")
                .register(registry);
        for (CircuitBreaker.State state : List.of(CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN,
                CircuitBreaker.State.HALF_OPEN)) {
            Gauge.builder("fetchq.hosts.breaker", guards,
                            g -> g.values().stream().filter(h -> h.breaker.getState() == state).count())
                    .description("Hosts whose circuit breaker is in this state")
                    .tag("state", state.name().toLowerCase(Locale.ROOT))
                    .register(registry);
        }
    }

    /** The host's guard, counting one more job held for it. */
    public HostGuard acquire(String host) {
        return guards.compute(host, (h, guard) -> {
            HostGuard g = guard != null ? guard : create(h);
            g.held++;
            g.active++;
            g.lastUsedNanos = ticker.nanos();
            return g;
        });
    }

    /**
     * One job of the host is done fetching (its result may still be being written).
     *
     * @return whether a claim for the host is worth making now: half its buffer is free (or, with no
     *     buffer, one job), and the last claim pass did not find it out of due jobs
     */
    public boolean fetched(HostGuard guard) {
        boolean[] refill = {false};
        guards.computeIfPresent(guard.host, (h, g) -> {
            g.active--;
            int buffer = g.claimLimit - g.limit;
            refill[0] = !g.drained && g.claimLimit - g.active >= Math.max(1, (buffer + 1) / 2);
            return g;
        });
        return refill[0];
    }

    /**
     * After a claim pass. When it came back short, a host it offered room to and took fewer jobs of
     * had no more due jobs it could reach: its fetches ending should not wake the claimer for it (the
     * next poll, or a notification of new jobs, will). When it took all it asked for, every host is
     * worth a claim again.
     *
     * @param offered the room the pass offered each host it knew ({@link Room#ordinary()}); others were
     *     offered their claim limit
     * @param taken jobs the pass claimed, by host
     */
    public void claimed(boolean cameShort, Map<String, Integer> offered, Map<String, Integer> taken) {
        guards.forEach((host, g) -> g.drained = cameShort
                && taken.getOrDefault(host, 0) < offered.getOrDefault(host, g.claimLimit));
    }

    /** As {@link #claimed(boolean, Map, Map)} for a pass that offered room to the given hosts only. */
    public void refilled(Map<String, Integer> offered, Map<String, Integer> taken) {
        offered.forEach((host, room) -> {
            HostGuard g = guards.get(host);
            if (g != null) {
                g.drained = taken.getOrDefault(host, 0) < room;
            }
        });
    }

    /** One job of the host is no longer held. */
    public void release(HostGuard guard) {
        guards.computeIfPresent(guard.host, (h, g) -> {
            g.held--;
            g.lastUsedNanos = ticker.nanos();
            return g;
        });
    }

    /**
     * What the claimer may take now. {@code ordinary}: hosts where that is not simply their limit —
     * hosts it holds jobs of (limit less what it holds), paused hosts and hosts whose breaker is not
     * closed (none), and hosts with a configured limit; hosts not listed may be claimed up to the
     * default {@code per-host}, and leaving idle hosts out keeps the claim statement small.
     * {@code trials}: hosts whose half-open breaker wants trial jobs, and how many.
     */
    public Room room() {
        Map<String, Integer> room = new HashMap<>();
        properties.hostLimits().keySet().forEach(host -> room.put(host, properties.claimLimitFor(host)));
        Map<String, Integer> trials = new HashMap<>();
        guards.forEach((host, g) -> {
            int free = g.room();
            if (free >= 0) {
                room.put(host, free);
            }
            int trial = g.trialRoom();
            if (trial > 0) {
                trials.put(host, trial);
            }
        });
        return new Room(room, trials);
    }

    /** See {@link #room()}. */
    public record Room(Map<String, Integer> ordinary, Map<String, Integer> trials) {
    }

    /** The guard of a host this worker tracks, or null. */
    public HostGuard get(String host) {
        return guards.get(host);
    }

    /** Drops guards of hosts with no job held and unused for {@code host-idle-eviction}. */
    public int evictIdle() {
        long idleNanos = properties.hostIdleEviction().toNanos();
        long now = ticker.nanos();
        int evicted = 0;
        for (String host : guards.keySet()) {
            boolean[] removed = {false};
            guards.computeIfPresent(host, (h, g) -> {
                if (g.held == 0 && now - g.lastUsedNanos > idleNanos && g.pausedForMs() == 0 && g.openForMs() == 0) {
                    removed[0] = true;
                    return null;
                }
                return g;
            });
            if (removed[0]) {
                bulkheads.remove(host);
                rateLimiters.remove(host);
                breakers.remove(host);
                meteredBulkheads.remove(host);
                meteredRateLimiters.remove(host);
                meteredBreakers.remove(host);
                evicted++;
            }
        }
        return evicted;
    }

    /** Up to {@code limit} hosts whose breaker is open or half-open. */
    public List<String> openHosts(int limit) {
        return guards.values().stream()
                .filter(g -> g.breaker.getState() != CircuitBreaker.State.CLOSED)
                .map(g -> g.host)
                .sorted()
                .limit(limit)
                .toList();
    }

    /** Up to {@code limit} hosts paused by a {@code Retry-After}. */
    public List<String> pausedHosts(int limit) {
        return guards.values().stream()
                .filter(g -> g.pausedForMs() > 0)
                .map(g -> g.host)
                .sorted()
                .limit(limit)
                .toList();
    }

    public int size() {
        return guards.size();
    }

    private HostGuard create(String host) {
        int limit = properties.limitFor(host);
        boolean metered = properties.metricsHosts().contains(host);
        var bulkhead = (metered ? meteredBulkheads : bulkheads).bulkhead(host, BulkheadConfig.custom()
                .maxConcurrentCalls(limit)
                .maxWaitDuration(MAX_QUEUE_WAIT)
                .build());
        RateLimiter limiter = null;
        double rate = properties.rateFor(host);
        if (rate > 0) {
            // Rates below 1/s become one request per 1/rate seconds.
            int perPeriod = rate >= 1 ? (int) Math.round(rate) : 1;
            Duration period = rate >= 1 ? Duration.ofSeconds(1) : Duration.ofMillis(Math.round(1000 / rate));
            limiter = (metered ? meteredRateLimiters : rateLimiters).rateLimiter(host, RateLimiterConfig.custom()
                    .limitForPeriod(perPeriod)
                    .limitRefreshPeriod(period)
                    .timeoutDuration(MAX_QUEUE_WAIT)
                    .build());
        }
        CircuitBreaker breaker = (metered ? meteredBreakers : breakers).circuitBreaker(host);
        HostGuard guard = new HostGuard(host, limit, properties.claimLimitFor(host), bulkhead, limiter, breaker, properties.breakerTrialCalls(),
                properties.breakerOpenFor().toNanos(), properties.breakerWindow(), properties.breakerFailureRate(), ticker);
        return guard;
    }
}
