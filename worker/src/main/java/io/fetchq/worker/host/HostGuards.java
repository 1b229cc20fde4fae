package io.fetchq.worker.host;

import io.fetchq.db.HostLedger;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.time.Ticker;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One {@link HostGuard} per target host, with a circuit breaker from a Resilience4j registry, and
 * this worker's side of the host ledger: the shares it holds of hosts' limits, renewed and handed
 * back by {@link #sync()}, and what the fleet learned about hosts (pauses, breakers, an admin's
 * limits), read by the same sync at every {@code fetchq.worker.host-sync-interval}. Guards are
 * evicted when idle, and the least recently used idle ones as soon as there are more than
 * {@code fetchq.worker.max-hosts}: registries never forget an instance, so a crawl over a million
 * hosts would otherwise grow without bound.
 */
public final class HostGuards {

    /** Longest a fetch queues for its host's slots or rate; the claim is heartbeated meanwhile. */
    public static final Duration MAX_QUEUE_WAIT = Duration.ofMinutes(10);

    /**
     * How long a worker keeps its share of a host it has nothing of to do (at least two polls): a
     * host whose jobs come a few at a time keeps its slots rather than handing them back and asking
     * again between every two of them.
     */
    static final Duration HAND_BACK_AFTER = Duration.ofSeconds(5);

    /** How often a host's fetches in flight are reported to the ledger between renewals, at most. */
    static final Duration REPORT_EVERY = Duration.ofSeconds(2);

    /** Most hosts one sync reports fetches in flight of between renewals. */
    static final int REPORTS_PER_SYNC = 64;

    /** Most changed hosts one sync reads. */
    static final int CHANGES_READ = 1000;

    /**
     * How far back each sync reads changes again: a change is stamped when it is made and may
     * commit a little later than a sync that read past its stamp.
     */
    static final Duration CHANGES_OVERLAP = Duration.ofSeconds(2);

    /**
     * Longest a breaker stays half-open waiting for its trial calls to end before it opens again: a
     * backstop, longer than any trial can queue and fetch, so that a trial lost to a bug cannot
     * keep a host half-open, and so claimed by nobody, for ever.
     */
    static final Duration TRIAL_WINDOW_LIMIT = Duration.ofMinutes(15);

    private final WorkerProperties properties;
    private final Ticker ticker;
    /** Null for guards of this worker alone (tests of a guard's own logic): no fleet, no sync. */
    private final HostLedger ledger;
    private final CircuitBreakerRegistry breakers;
    /**
     * The breakers of the hosts named in {@code fetchq.worker.metrics-hosts} live in a registry of
     * their own, bound to the meter registry: only those hosts get series labelled with their name.
     */
    private final CircuitBreakerRegistry meteredBreakers;
    private final ConcurrentHashMap<String, HostGuard> guards = new ConcurrentHashMap<>();
    /** Without the ledger: each host's next instant of its rate (System.nanoTime). */
    private final ConcurrentHashMap<String, long[]> ownRates = new ConcurrentHashMap<>();
    /** What this worker learned and the ledger has not been told yet. */
    private final ConcurrentLinkedQueue<Runnable> toTell = new ConcurrentLinkedQueue<>();
    private final HostGuard.Events events;
    /** Told when there is something to tell the ledger: the sync runs at once. */
    private volatile Runnable syncSoon = () -> { };
    /** Where the next read of changed hosts starts (sync thread only). */
    private Instant changesSince;

    /** Guards of this worker alone, without the fleet's ledger. */
    public HostGuards(WorkerProperties properties) {
        this(properties, Ticker.SYSTEM);
    }

    /** As above, on {@code ticker}'s time. */
    public HostGuards(WorkerProperties properties, Ticker ticker) {
        this(properties, ticker, null);
    }

    /** Guards that share hosts' limits, rates, pauses and breakers with the fleet through {@code ledger}. */
    public HostGuards(WorkerProperties properties, Ticker ticker, HostLedger ledger) {
        this.properties = properties;
        this.ticker = ticker;
        this.ledger = ledger;
        this.events = ledger == null ? HostGuard.Events.NONE : new HostGuard.Events() {
            @Override
            public void paused(String host, long millis) {
                tell(() -> ledger.pause(host, millis));
            }

            @Override
            public void opened(String host) {
                tell(() -> ledger.open(host, properties.id(), properties.breakerOpenFor()));
            }

            @Override
            public void closed(String host) {
                tell(() -> ledger.close(host, properties.id()));
            }
        };
        CircuitBreakerConfig breakerConfig = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(properties.breakerWindow())
                .minimumNumberOfCalls(properties.breakerMinimumCalls())
                .failureRateThreshold(properties.breakerFailureRate())
                .waitDurationInOpenState(properties.breakerOpenFor())
                .permittedNumberOfCallsInHalfOpenState(properties.breakerTrialCalls())
                .maxWaitDurationInHalfOpenState(TRIAL_WINDOW_LIMIT)
                .build();
        this.breakers = CircuitBreakerRegistry.of(breakerConfig);
        this.meteredBreakers = CircuitBreakerRegistry.of(breakerConfig);
    }

    /**
     * Publishes the Resilience4j circuit breaker metrics and this worker's slots of the hosts in
     * {@code fetchq.worker.metrics-hosts} (tagged with the host), and for all hosts together how many
     * are tracked and how many have a breaker in each state (bounded cardinality).
     */
    public void bindMetrics(MeterRegistry registry) {
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(meteredBreakers).bindTo(registry);
        for (String host : properties.metricsHosts()) {
            Gauge.builder("fetchq.host.slots", guards, g -> g.containsKey(host) ? g.get(host).slots.granted() : 0)
                    .description("Slots of the host's fleet-wide limit this worker holds")
                    .tag("host", host)
                    .register(registry);
            Gauge.builder("fetchq.host.in.flight", guards, g -> g.containsKey(host) ? g.get(host).slots.inUse() : 0)
                    .description("This worker's requests in flight to the host")
                    .tag("host", host)
                    .register(registry);
        }
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
            int claimLimit = g.claimLimit();
            int buffer = claimLimit - g.slots.granted();
            refill[0] = !g.drained && claimLimit - g.active >= Math.max(1, (buffer + 1) / 2);
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
                && taken.getOrDefault(host, 0) < offered.getOrDefault(host, ledger != null ? g.claimLimit() : defaultRoom()));
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
     * What the claimer may take now. {@code ordinary}: the hosts it holds jobs of (their claim limit
     * less what it holds), paused hosts and hosts whose breaker is not closed or that the fleet holds
     * back (none); leaving idle hosts out keeps the claim statement small. A host not listed may be
     * claimed up to its claim limit: with the fleet's ledger, that of the slots of its live share
     * (the claim reads the share; none, no room); on its own, of its configured limit, and hosts
     * with a configured limit are listed. {@code trials}: hosts whose half-open breaker wants trial
     * jobs, and how many.
     */
    public Room room() {
        Map<String, Integer> room = new HashMap<>();
        if (ledger == null) {
            properties.hostLimits().keySet().forEach(host -> room.put(host, properties.claimLimitFor(host)));
        }
        Map<String, Integer> trials = new HashMap<>();
        guards.forEach((host, g) -> {
            int free = g.freeRoom();
            if (free < g.claimLimit() || g.active > 0) {
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

    /** The room of a host not listed in {@link Room#ordinary()}: none with the fleet's ledger (no slots held). */
    public int defaultRoom() {
        return ledger == null ? properties.claimLimit() : 0;
    }

    /** Whether hosts' limits are the fleet's (held as slots from the ledger). */
    public boolean fleet() {
        return ledger != null;
    }

    /** The guard of a host this worker tracks, or null. */
    public HostGuard get(String host) {
        return guards.get(host);
    }

    /**
     * Drops guards of hosts with no job held, no share of the ledger and unused for
     * {@code host-idle-eviction}; then, while more than {@code max-hosts} are kept, the least recently
     * used of such guards whatever their idle time. A host's pause and breaker stay in the ledger.
     */
    public int evictIdle() {
        long idleNanos = properties.hostIdleEviction().toNanos();
        long now = ticker.nanos();
        int evicted = 0;
        List<HostGuard> evictable = new ArrayList<>();
        for (HostGuard g : guards.values()) {
            if (evictable(g)) {
                evictable.add(g);
            }
        }
        evictable.sort(Comparator.comparingLong(g -> g.lastUsedNanos - now));
        int over = guards.size() - properties.maxHosts();
        for (HostGuard candidate : evictable) {
            boolean idle = now - candidate.lastUsedNanos > idleNanos;
            if (!idle && over <= 0) {
                continue;
            }
            boolean[] removed = {false};
            guards.computeIfPresent(candidate.host, (h, g) -> {
                if (evictable(g) && (ledger != null || g.pausedForMs() == 0 && g.openForMs() == 0)) {
                    removed[0] = true;
                    return null;
                }
                return g;
            });
            if (removed[0]) {
                breakers.remove(candidate.host);
                meteredBreakers.remove(candidate.host);
                ownRates.remove(candidate.host);
                evicted++;
                over--;
            }
        }
        return evicted;
    }

    /** No job held, no fetch, and (with the ledger) no share: its slots were handed back. */
    private boolean evictable(HostGuard g) {
        return g.held == 0 && g.active == 0 && g.slots.inUse() == 0
                && (ledger == null || g.slots.granted() == 0 && g.lastWant <= 0);
    }

    /**
     * Hosts to ask the ledger for slots of, from the claim order's window or a walk over hosts with
     * due jobs: those this worker holds no slots of and has not asked for lately. Asks for them
     * (its configured limit each) and answers the room it got.
     */
    public Map<String, Integer> discovered(Collection<String> hosts) {
        Map<String, Integer> room = new HashMap<>();
        if (ledger == null) {
            return room;
        }
        long now = ticker.nanos();
        List<Ask> asks = new ArrayList<>();
        for (String host : hosts) {
            HostGuard g = guards.computeIfAbsent(host, this::create);
            g.seenDueNanos = now;
            // A host the ledger refused lately (others hold its slots) is asked again by the sync.
            if (g.slots.granted() == 0 && now - g.refusedAtNanos >= properties.hostSyncInterval().toNanos()
                    && !g.heldByFleet() && g.pausedForMs() == 0) {
                asks.add(new Ask(g, Math.min(g.limit, properties.maxInFlight())));
            }
        }
        take(asks);
        for (Ask ask : asks) {
            int free = ask.guard().freeRoom();
            if (free > 0) {
                room.put(ask.guard().host, free);
            }
        }
        return room;
    }

    /**
     * One pass of the ledger sync: tells it what this worker learned (pauses, breakers), takes,
     * renews and hands back shares, and reads the hosts whose state changed.
     */
    public void sync() {
        if (ledger == null) {
            return;
        }
        for (Runnable tell; (tell = toTell.peek()) != null; ) {
            tell.run();
            toTell.poll();
        }
        readChanges();
        long now = ticker.nanos();
        long renewNanos = properties.lease().toNanos() / 3;
        long reportNanos = Math.max(properties.hostSyncInterval().toNanos(), REPORT_EVERY.toNanos());
        int reports = 0;
        List<Ask> asks = new ArrayList<>();
        for (HostGuard g : guards.values()) {
            int want = want(g, now);
            int held = g.slots.held();
            int inUse = g.slots.inUse();
            if (want == 0 && held == 0 && g.lastWant <= 0 && g.lastHeldReported == 0) {
                continue;
            }
            boolean due = want != g.lastWant || g.contended || g.recheck || g.awaitsTrials()
                    || g.slots.liveForNanos() < properties.lease().toNanos() - renewNanos
                    || want > g.slots.granted();
            // Fetches in flight, for the hosts view: reported with renewals, and in between for a
            // bounded number of hosts per pass, so that a busy host's figure stays a few seconds fresh.
            boolean report = inUse != g.lastInUseReported && now - g.lastReportNanos >= reportNanos
                    && reports < REPORTS_PER_SYNC;
            if (due || report) {
                reports += due ? 0 : 1;
                asks.add(new Ask(g, want));
            }
        }
        take(asks);
    }

    /**
     * Applies the hosts whose state changed since the last read (a little before: see
     * {@link #CHANGES_OVERLAP}); a host this worker holds slots of is renewed in this pass, so that
     * an admin's new limit holds at once.
     */
    private void readChanges() {
        if (changesSince == null) {
            changesSince = ledger.now();
        }
        Instant newest = changesSince;
        for (HostLedger.HostState state : ledger.changedSince(changesSince.minus(CHANGES_OVERLAP), CHANGES_READ)) {
            HostGuard g = guards.get(state.host());
            if (g != null) {
                g.applyLedger(state.pausedMs(), state.breaker(), state.openMs(),
                        properties.id().equals(state.trialWorker()), state.ratePerS());
                g.recheck = g.slots.held() > 0;
            }
            if (state.changedAt().isAfter(newest)) {
                newest = state.changedAt();
            }
        }
        changesSince = newest;
    }

    /**
     * The slots this worker would use of a host: none once it has had nothing of the host to do for
     * {@link #HAND_BACK_AFTER}, or while the host is held back; while it holds or sees jobs of the host, its limit
     * (at most its own {@code max-in-flight}); slots to make the trial calls when an open breaker's
     * time is up. It does not follow every rise and fall of the jobs it holds: each change is a
     * write to the ledger, and a worker fetching from thousands of hosts would rewrite their
     * shares all the time; another worker that wants slots gets its fair part anyway.
     */
    private int want(HostGuard g, long now) {
        int most = Math.min(g.limit, properties.maxInFlight());
        if (g.awaitsTrials() || g.breaker.getState() == CircuitBreaker.State.HALF_OPEN) {
            // Asking for the trials, or making them (the ledger chose this worker): slots to make them with.
            return most;
        }
        if (g.heldByFleet() || g.pausedForMs() > 0 || g.breaker.getState() == CircuitBreaker.State.OPEN) {
            return 0;
        }
        long quiet = Math.max(2 * properties.pollInterval().toNanos(), HAND_BACK_AFTER.toNanos());
        if (g.active == 0 && now - Math.max(g.lastUsedNanos, g.seenDueNanos) > quiet) {
            return 0;
        }
        return most;
    }

    /** The slots a pass would have of a host. */
    private record Ask(HostGuard guard, int want) {
    }

    /**
     * Takes shares and applies the answers; one caller at a time (the claimer's discovery, the sync).
     * The slots held are read here, under the lock, not when the pass chose its hosts: a grant
     * applied in between by the other caller may have started fetches the share must keep covering.
     */
    private synchronized void take(List<Ask> asks) {
        if (asks.isEmpty()) {
            return;
        }
        long asked = ticker.nanos();
        List<HostLedger.ShareRequest> requests = asks.stream()
                .map(a -> new HostLedger.ShareRequest(a.guard().host, a.want(), a.guard().limit, a.guard().configuredRate,
                        a.guard().slots.held(), a.guard().slots.inUse()))
                .toList();
        List<HostLedger.Share> shares = ledger.takeShares(properties.id(), requests, properties.lease());
        Map<String, HostLedger.ShareRequest> byHost = new HashMap<>();
        requests.forEach(r -> byHost.put(r.host(), r));
        for (HostLedger.Share share : shares) {
            HostGuard g = guards.get(share.host());
            if (g == null) {
                continue;
            }
            HostLedger.ShareRequest ask = byHost.get(share.host());
            g.slots.granted(share.granted(), asked, properties.lease());
            g.lastWant = ask.want();
            g.lastHeldReported = ask.held();
            g.lastInUseReported = ask.inUse();
            if (share.granted() == 0 && ask.want() > 0) {
                g.refusedAtNanos = asked;
            }
            g.lastReportNanos = asked;
            g.contended = share.contended();
            g.recheck = false;
            g.applyLedger(share.pausedMs(), share.breaker(), share.openMs(), share.trials(), share.ratePerS());
        }
    }

    /** Hands back every share this worker holds (it stops). */
    public void releaseAll() {
        if (ledger != null) {
            ledger.release(properties.id());
        }
    }

    /** Runs the sync at once when told (the sync's loop wakes). */
    public void onTell(Runnable wake) {
        this.syncSoon = wake;
    }

    private void tell(Runnable write) {
        toTell.add(write);
        syncSoon.run();
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
        CircuitBreaker breaker = (metered ? meteredBreakers : breakers).circuitBreaker(host);
        HostRate.Source rates = ledger != null ? ledger::takeRate : this::ownRate;
        HostGuard guard = new HostGuard(host, limit, properties::claimLimit, properties.rateFor(host), rates,
                ledger != null, events, breaker, properties.breakerTrialCalls(), properties.breakerOpenFor().toNanos(),
                properties.breakerWindow(), properties.breakerFailureRate(), ticker);
        if (ledger == null) {
            // This worker's alone: all its limit, for as long as it lives.
            guard.slots.granted(limit, ticker.nanos(), Duration.ofDays(365 * 100L));
        }
        return guard;
    }

    /**
     * A rate timeline of this process alone, for guards without the ledger: each host's next instant
     * kept here, as the ledger keeps it for the fleet.
     */
    private HostLedger.RateSlice ownRate(String host, double rate, int n) {
        if (rate <= 0) {
            return new HostLedger.RateSlice(0, 0);
        }
        double intervalMs = 1000.0 / rate;
        long now = System.nanoTime();
        long[] next = ownRates.computeIfAbsent(host, h -> new long[] {now});
        synchronized (next) {
            long start = Math.max(next[0], now);
            next[0] = start + (long) (n * intervalMs * 1_000_000);
            return new HostLedger.RateSlice((start - now) / 1e6, intervalMs);
        }
    }
}
