package io.fetchq.worker;

import io.fetchq.db.ClaimedJob;
import io.fetchq.db.Completion;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.worker.complete.Completer;
import io.fetchq.worker.fetch.ErrorKind;
import io.fetchq.worker.fetch.FetchCancellation;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.Fetcher;
import io.fetchq.worker.fetch.Json;
import io.fetchq.worker.fetch.Timings;
import io.fetchq.worker.host.HostGuard;
import io.fetchq.worker.host.HostGuards;
import io.fetchq.worker.process.Processor;
import io.fetchq.worker.retry.RetryPolicy;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker: claimer → fetchers → CPU pool → batched completer, with a heartbeat keeping its claims
 * alive.
 *
 * <ul>
 *   <li>The claimer claims only as many jobs as the global bulkhead has free slots (backpressure,
 *       like a bounded {@code asyncio.Queue}), and per host only as many as the host has room
 *       for. The claim commits before any fetch starts.
 *   <li>Each job runs on its own virtual thread: breaker and pause gate, rate limiter, host
 *       bulkhead, then the fetch; short retries wait in-process under Resilience4j Retry, each
 *       attempt counted in the database before it is made.
 *   <li>Results go to the completer, which writes many in one statement fenced by the claim.
 * </ul>
 * No database connection is held while a fetch is in flight.
 */
public final class Worker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    /**
     * How far down the claim order a claim looks for jobs of hosts with room, per job wanted: wider
     * finds more hosts with room behind a busy one, and costs the claim statement more.
     */
    static final int CLAIM_SCAN_FACTOR = 2;

    /** Due jobs of a half-open host that its trial jobs are drawn from at random. */
    static final int TRIAL_SAMPLE = 200;

    /** Most hosts one claim pass walks looking for due jobs beyond the claim order's window. */
    static final int MAX_HOSTS_VISITED = 1000;

    /** Expired leases rescued per heartbeat; more wait for the next beat. */
    static final int RESCUE_BATCH = 1000;

    /** Most open-breaker hosts, and most paused hosts, a heartbeat reports (for the API's hosts view). */
    static final int OPEN_HOSTS_REPORTED = 100;

    /** How long a shutdown past its grace waits for cancelled fetches to hand over their outcomes. */
    static final Duration STOP_WAIT = Duration.ofSeconds(5);

    /** How long stopped and lost workers stay in {@code fetchq.workers}. */
    static final Duration PRUNE_AFTER = Duration.ofDays(1);

    private final WorkerProperties properties;
    private final QueueQueries queue;
    private final WorkerQueries workers;
    private final Fetcher fetcher;
    private final Processor processor;
    private final RetryPolicy retryPolicy;
    private final HostGuards hosts;
    private final Completer completer;
    private final Bulkhead global;
    private final WorkerMetrics metrics;
    /**
     * Claims held and not yet written back: their leases are renewed by the heartbeat. Each claim is
     * an object of its own, never looked up by job id: this worker may claim a job again (its older
     * claim rescued after a stall) while the older claim's fetch is still running, and the two must
     * never be mistaken for each other.
     */
    private final Set<Held> inFlight = ConcurrentHashMap.newKeySet();
    private final Semaphore wakeup = new Semaphore(0);
    private final ExecutorService fetchThreads =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("fetchq-fetch-", 0).factory());
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("fetchq-heartbeat").daemon().unstarted(r));
    private final Thread claimer;
    private volatile boolean claiming;
    /** Where the next walk over hosts beyond the claim window starts (claimer thread only). */
    private String discoveryCursor = "";
    /** Jobs the current claim pass took, by host (claimer thread only). */
    private final Map<String, Integer> takenByHost = new java.util.HashMap<>();
    /** When the claimer last walked the hosts beyond the claim window (claimer thread only). */
    private long lastWalkNanos = System.nanoTime() - Duration.ofDays(1).toNanos();
    /** Whether claiming is held back by free slots (not by hosts' room): then any freed slot should wake it. */
    private volatile boolean slotBound;
    /** The next claim pass reads the whole claim order (see {@link #refill}), not only the hosts to refill. */
    private volatile boolean fullPass = true;
    /** When the claimer last read the whole claim order (claimer thread only). */
    private long lastFullPassNanos = System.nanoTime();
    /** Hosts whose fetches ended and left room worth a claim. */
    private final Set<String> refills = ConcurrentHashMap.newKeySet();

    public Worker(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, Fetcher fetcher) {
        this(properties, queue, workers, fetcher, WorkerMetrics.none());
    }

    public Worker(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, Fetcher fetcher,
            WorkerMetrics metrics) {
        this.properties = properties;
        this.metrics = metrics;
        this.queue = queue;
        this.workers = workers;
        this.fetcher = fetcher;
        this.processor = new Processor(properties.cpuThreads());
        this.retryPolicy = new RetryPolicy(properties);
        this.hosts = new HostGuards(properties);
        this.completer = new Completer(queue, properties.id(), properties.completeBatch(), properties.completers(),
                () -> metrics.loopFailed("complete"));
        BulkheadRegistry globalRegistry = BulkheadRegistry.ofDefaults();
        this.global = globalRegistry.bulkhead("fetchq-global", BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxInFlight())
                .maxWaitDuration(Duration.ZERO)
                .build());
        this.claimer = Thread.ofPlatform().name("fetchq-claimer").unstarted(this::claimLoop);
        MeterRegistry registry = metrics.registry();
        TaggedBulkheadMetrics.ofBulkheadRegistry(globalRegistry).bindTo(registry);
        hosts.bindMetrics(registry);
        Gauge.builder("fetchq.in.flight", inFlight, Set::size)
                .description("Jobs this worker holds: fetching, waiting to retry, or being written")
                .register(registry);
        Gauge.builder("fetchq.completer.backlog", completer, Completer::backlog)
                .description("Results waiting to be written")
                .register(registry);
    }

    public String id() {
        return properties.id();
    }

    public void start() {
        workers.register(properties.id(), hostname(), ManagementFactory.getRuntimeMXBean().getPid());
        completer.start();
        claiming = true;
        claimer.start();
        long beat = Math.max(100, properties.lease().toMillis() / 3);
        heartbeat.scheduleWithFixedDelay(this::beat, beat, beat, TimeUnit.MILLISECONDS);
        log.info("[{}] worker started: {} in flight, {} per host, lease {}", properties.id(),
                properties.maxInFlight(), properties.perHost(), properties.lease());
    }

    /** Wakes the claimer now (new jobs were announced). */
    public void wake() {
        fullPass = true;
        wakeup.release();
    }

    private void claimLoop() {
        long errorBackoff = 100;
        while (claiming) {
            try {
                // Free fetch slots, while the results waiting to be written stay under one batch: a
                // slow database slows claiming instead of piling up results in memory.
                int free = completer.backlogFull() ? 0 : Math.min(global.getMetrics().getAvailableConcurrentCalls(),
                        properties.completeBatch() - completer.backlog());
                int want = Math.min(free, properties.claimBatch());
                if (want <= 0) {
                    slotBound = true;
                    awaitWork();
                    continue;
                }
                // A full pass at least every poll interval, however busy refills keep the claimer:
                // jobs of other hosts come due (backoffs, deferrals) without anything announcing them.
                long now = System.nanoTime();
                boolean full = fullPass || refills.isEmpty()
                        || now - lastFullPassNanos >= properties.pollInterval().toNanos();
                fullPass = false;
                if (full) {
                    lastFullPassNanos = now;
                }
                int claimed = full ? claim(want) : refill(want);
                errorBackoff = 100;
                // Took all it asked for: there may be more anywhere, and the next freed slot should claim it.
                slotBound = claimed == want;
                if (slotBound) {
                    fullPass = true;
                } else {
                    awaitWork();
                }
            } catch (Throwable t) {
                log.warn("[{}] claim failed, retrying in {} ms: {}", properties.id(), errorBackoff, t.toString());
                metrics.loopFailed("claim");
                sleep(errorBackoff);
                errorBackoff = Math.min(5_000, errorBackoff * 2);
            }
        }
    }

    /**
     * One claim pass for up to {@code want} jobs: trial jobs for half-open breakers, then the claim
     * order's window, then — if that came back short, as when a host without room for them filled
     * the window with its jobs — the due jobs of other hosts wherever they are in the order.
     * Together they keep the liveness invariant: a worker with free slots leaves no due job of a
     * host with room unclaimed for longer than one poll interval.
     */
    private int claim(int want) {
        HostGuards.Room room = hosts.room();
        Map<String, Integer> offered = room.ordinary();
        int claimed = 0;
        for (Map.Entry<String, Integer> trial : room.trials().entrySet()) {
            if (claimed >= want) {
                break;
            }
            HostGuard guard = hosts.get(trial.getKey());
            if (guard == null) {
                continue;
            }
            int asked = Math.min(trial.getValue(), want - claimed);
            List<ClaimedJob> trials = queue.claimTrials(properties.id(), trial.getKey(), asked, TRIAL_SAMPLE,
                    guard.trialExclusions(), properties.lease());
            guard.trialsFound(asked, trials.size());
            claimed += started(trials);
        }
        if (claimed < want) {
            claimed += started(queue.claimDue(properties.id(), want - claimed, (want - claimed) * CLAIM_SCAN_FACTOR,
                    properties.claimLimit(), room.ordinary(), properties.lease()));
        }
        long now = System.nanoTime();
        if (claimed < want && now - lastWalkNanos >= properties.pollInterval().toNanos()) {
            // Short: the window may have been filled by jobs of hosts with too little room for them
            // (a busy host's backlog), with other hosts' due jobs behind it. Once per poll interval at
            // most: that is the liveness promise, and a host kept busy by its own backlog would
            // otherwise have every wake-up walk the hosts for nothing.
            lastWalkNanos = now;
            // The window is not locked, so the room it left may have gone to its own jobs since:
            // read the room again rather than overrun a host.
            room = hosts.room();
            int hostsToVisit = Math.min(MAX_HOSTS_VISITED, want - claimed + room.ordinary().size());
            List<ClaimedJob> elsewhere = queue.claimElsewhere(properties.id(), want - claimed, discoveryCursor,
                    hostsToVisit, properties.claimLimit(), room.ordinary(), properties.lease());
            // Continue after the last host served next time, so that hosts late in the name order get
            // their turn; start over once the walk came back short (it reached the last host).
            discoveryCursor = elsewhere.size() < want - claimed ? ""
                    : elsewhere.stream().map(ClaimedJob::host).max(String::compareTo).orElse("");
            claimed += started(elsewhere);
        }
        hosts.claimed(claimed < want, offered, takenByHost);
        takenByHost.clear();
        return claimed;
    }

    private int started(List<ClaimedJob> claimed) {
        metrics.claimed(claimed.size());
        for (ClaimedJob job : claimed) {
            takenByHost.merge(job.host(), 1, Integer::sum);
            start(job);
        }
        return claimed.size();
    }

    /** Waits for a wake-up or the poll interval; a poll that nothing woke makes the next pass a full one. */
    private void awaitWork() {
        try {
            if (!wakeup.tryAcquire(properties.pollInterval().toMillis(), TimeUnit.MILLISECONDS)) {
                fullPass = true;
            }
            wakeup.drainPermits();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A pass that only refills hosts this worker is busy with, whose fetches ended and left half
     * their buffer free: one statement reading each host's next jobs from its own index. The claim
     * order across hosts is read by full passes: at every poll, at every announcement of new jobs,
     * and whenever free slots rather than hosts' room held claiming back.
     */
    private int refill(int want) {
        Map<String, Integer> offered = new java.util.HashMap<>();
        int total = 0;
        for (String host : List.copyOf(refills)) {
            refills.remove(host);
            HostGuard guard = hosts.get(host);
            int free = guard == null ? 0 : Math.min(guard.freeRoom(), want - total);
            if (free > 0) {
                offered.put(host, free);
                total += free;
            }
        }
        if (offered.isEmpty()) {
            return 0;
        }
        int claimed = started(queue.claimHosts(properties.id(), offered, properties.lease()));
        hosts.refilled(offered, takenByHost);
        takenByHost.clear();
        return claimed;
    }

    /**
     * One claim from its claim to its write-back: the attempt it is making now (the claim is
     * {@code (job id, lease token, attempt)}), whether a request of that attempt may have been sent,
     * the handle that cancels the fetch, and whether its outcome went to the completer — exactly
     * once, by whichever of its fetch thread and a shutdown gets there first.
     */
    private static final class Held {
        volatile ClaimedJob job;
        volatile boolean sent;
        final FetchCancellation cancellation = new FetchCancellation();
        private final AtomicBoolean handedOver = new AtomicBoolean();

        Held(ClaimedJob job) {
            this.job = job;
        }

        /** True for the one caller that hands this claim's outcome over. */
        boolean handOver() {
            return handedOver.compareAndSet(false, true);
        }
    }

    private void start(ClaimedJob job) {
        if (!global.tryAcquirePermission()) {
            // Cannot happen: claims never exceed free slots. Give the job back rather than overrun.
            completer.submit(release(job, 0), () -> { });
            return;
        }
        HostGuard guard = hosts.acquire(job.host());
        Held held = new Held(job);
        inFlight.add(held);
        fetchThreads.submit(() -> run(held, guard));
    }

    private void run(Held held, HostGuard guard) {
        Completion completion;
        try {
            completion = attempts(held, guard);
        } catch (Throwable t) {
            ClaimedJob job = held.job;
            log.error("[{}] job {} failed unexpectedly; handing it back", properties.id(), job.jobId(), t);
            completion = held.sent ? stopped(job) : release(job, properties.retryBase().toMillis());
        }
        // The fetch slot and the host's room are free once the attempt is over (the claim's lease is
        // held until the result is written): claim again once the host's buffer has run half down,
        // so that it refills while results are written in the background, in claims of several jobs.
        global.onComplete();
        if (hosts.fetched(guard)) {
            refills.add(guard.host());
            wakeup.release();
        } else if (slotBound) {
            wakeup.release();
        }
        if (held.handOver()) {
            metrics.attempt(completion);
            completer.submit(completion, () -> written(held, guard));
        } else {
            // Shutdown already handed this claim back.
            written(held, guard);
        }
    }

    private void written(Held held, HostGuard guard) {
        inFlight.remove(held);
        hosts.release(guard);
        // The results waiting to be written went down: a claim held back by them may go ahead.
        // Wake-ups coalesce, so this is at most one claim per loop.
        if (slotBound) {
            wakeup.release();
        }
    }

    /** An attempt's outcome and what the job needs next. */
    private record Attempt(ClaimedJob job, Completion completion, long inProcessDelayMs) {
    }

    /**
     * Makes the job's attempts under this claim: one, or more when a retry is due soon enough to
     * wait here. Before each further attempt the failed one is recorded and the next one counted
     * in one fenced statement, so the budget holds even if this process dies mid-request.
     */
    private Completion attempts(Held held, HostGuard guard) {
        ClaimedJob first = held.job;
        long inProcessMs = properties.inProcessRetry().toMillis();
        RetryConfig config = RetryConfig.<Attempt>custom()
                .maxAttempts(first.attemptLimit() - first.attempt() + 1)
                .retryOnResult(a -> a.inProcessDelayMs() >= 0)
                .intervalBiFunction((n, result) -> result.isRight() ? result.get().inProcessDelayMs() : 0L)
                .build();
        Retry retry = Retry.of("job-" + first.jobId(), config);
        AtomicReference<Attempt> last = new AtomicReference<>();
        Supplier<Attempt> attempts = Retry.decorateSupplier(retry, () -> {
            Attempt previous = last.get();
            ClaimedJob job = first;
            if (previous != null) {
                boolean counted;
                try {
                    counted = queue.nextAttempt(previous.completion(), properties.id(), properties.lease());
                } catch (RuntimeException e) {
                    // The database is away: the completer, which retries until it is back, records the
                    // failed attempt and queues the job again.
                    log.warn("[{}] could not start attempt {} of job {}: {}", properties.id(), previous.job().attempt() + 1,
                            previous.job().jobId(), e.toString());
                    counted = false;
                }
                if (!counted) {
                    // Claim lost, cancel requested or database away: hand the failed attempt to the
                    // completer, whose fence writes it only if the claim still holds.
                    Attempt stop = new Attempt(previous.job(), previous.completion(), -1);
                    last.set(stop);
                    return stop;
                }
                metrics.attempt(previous.completion());
                job = previous.job().nextAttempt();
                held.job = job;
                held.sent = false;
            }
            Attempt attempt;
            try {
                attempt = attempt(held, job, guard, inProcessMs);
            } catch (RuntimeException e) {
                // A bug, not an outcome. The request may have been sent, so the attempt counts and the
                // job goes back to the queue.
                log.error("[{}] attempt {} of job {} failed unexpectedly", properties.id(), job.attempt(), job.jobId(), e);
                Instant now = Instant.now();
                FetchOutcome failure = new FetchOutcome.Failure(ErrorKind.PROTOCOL, "internal error: " + e, List.of(),
                        new Timings(null, null, null, null, 0, null));
                boolean spent = !job.hasAttemptsLeft();
                attempt = new Attempt(job, completion(job, failure, null, spent ? "failed" : null,
                        retryPolicy.backoffMs(job.attemptInBudget()), ErrorKind.PROTOCOL, "internal error: " + e, now, now), -1);
            }
            last.set(attempt);
            return attempt;
        });
        try {
            return attempts.get().completion();
        } catch (RuntimeException e) {
            // Interrupted while waiting to retry (shutdown): the last attempt was made and is what
            // must be recorded; it carries its retry delay.
            Attempt made = last.get();
            if (made == null) {
                throw e;
            }
            return made.completion();
        }
    }

    private Attempt attempt(Held held, ClaimedJob job, HostGuard guard, long inProcessMs) {
        long paused = guard.pausedForMs();
        if (paused > inProcessMs) {
            return new Attempt(job, release(job, paused), -1);
        }
        if (paused > 0) {
            sleep(paused);
        }
        if (!guard.tryAdmit()) {
            return new Attempt(job, release(job, guard.deferMs()), -1);
        }
        try {
            if (guard.rateLimiter() != null) {
                guard.rateLimiter().acquirePermission();
            }
            guard.bulkhead().acquirePermission();
        } catch (RuntimeException notPermitted) {
            // A full bulkhead, an exhausted rate limit or an interrupt while queued for them (shutdown):
            // no request was made, so the attempt is not one.
            guard.unused();
            return new Attempt(job, release(job, properties.retryBase().toMillis()), -1);
        }
        if (held.cancellation.cancelled() || Thread.currentThread().isInterrupted()) {
            // A shutdown woke it while it waited: nothing was sent.
            guard.bulkhead().onComplete();
            guard.unused();
            return new Attempt(job, release(job, 0), -1);
        }
        FetchOutcome outcome;
        // From here a request may reach the host: the attempt counts, whatever happens next. Its
        // time starts here too, not in the queue for the host's rate limit or bulkhead.
        held.sent = true;
        Instant startedAt = Instant.now();
        long started = System.nanoTime();
        try {
            outcome = fetcher.fetch(job, held.cancellation);
        } catch (RuntimeException e) {
            guard.unused();
            throw e;
        } finally {
            guard.bulkhead().onComplete();
        }
        long took = System.nanoTime() - started;
        metrics.fetched(outcome.timings());
        if (held.cancellation.cancelled()) {
            // Stopped by a shutdown past its grace: says nothing about the host, and is not retried here.
            guard.unused();
            return new Attempt(job, stopped(job), -1);
        }
        if (hostDidNotAnswer(outcome)) {
            guard.recordFailure(job.jobId(), took, describe(outcome));
        } else {
            guard.recordSuccess(took);
        }
        RetryPolicy.Decision decision = retryPolicy.decide(outcome, job.attemptInBudget(), job.hasAttemptsLeft());
        Processor.Processed processed = outcome instanceof FetchOutcome.Response r && decision instanceof RetryPolicy.Decision.Final
                ? processor.process(r.body(), r.contentType(), r.finalUrl(), job.extract())
                : null;
        Instant finishedAt = Instant.now();
        return switch (decision) {
            case RetryPolicy.Decision.Final f -> new Attempt(job,
                    completion(job, outcome, processed, f.state(), 0, f.errorKind(), f.errorMessage(), startedAt, finishedAt), -1);
            case RetryPolicy.Decision.Retry r -> {
                if (r.hostPauseMs() > 0) {
                    guard.pauseFor(r.hostPauseMs());
                }
                Completion retryLater = completion(job, outcome, null, null, r.delayMs(), r.errorKind(),
                        r.errorMessage(), startedAt, finishedAt);
                yield new Attempt(job, retryLater, r.delayMs() <= inProcessMs && claiming ? r.delayMs() : -1);
            }
        };
    }

    /**
     * Whether an outcome says the host is unwell: it could not be reached or did not answer. A
     * response of any status is the host answering, and a 5xx is that URL's own trouble (a host that
     * asks everyone to wait says so with Retry-After, which pauses it); certificate and policy
     * failures do not change from one attempt to the next, so a breaker would only delay them.
     */
    private static boolean hostDidNotAnswer(FetchOutcome outcome) {
        return outcome instanceof FetchOutcome.Failure f && (f.kind() == ErrorKind.CONNECT
                || f.kind() == ErrorKind.TIMEOUT || f.kind() == ErrorKind.RESET || f.kind() == ErrorKind.DNS);
    }

    private static String describe(FetchOutcome outcome) {
        return switch (outcome) {
            case FetchOutcome.Response r -> "HTTP " + r.status();
            case FetchOutcome.Failure f -> f.kind().code() + ": " + f.message();
        };
    }

    private static Completion completion(ClaimedJob job, FetchOutcome outcome, Processor.Processed processed,
            String finalState, long retryDelayMs, ErrorKind errorKind, String errorMessage, Instant startedAt,
            Instant finishedAt) {
        var t = outcome.timings();
        String redirects = Json.redirects(outcome.redirects());
        if (outcome instanceof FetchOutcome.Response r) {
            boolean keepBody = processed != null && job.storeBody() && "completed".equals(finalState);
            return new Completion(job.jobId(), job.leaseToken(), job.attempt(), finalState, retryDelayMs, false,
                    startedAt, finishedAt, r.status(), r.contentType(), (long) r.body().length, r.truncated(),
                    processed == null ? null : processed.sha256(), processed == null ? null : processed.title(),
                    processed == null ? null : processed.linksJson(), r.finalUrl(),
                    errorKind == null ? null : errorKind.code(), errorMessage, t.dnsMs(), t.connectMs(), t.tlsMs(),
                    t.ttfbMs(), t.totalMs(), t.remoteIp(), redirects, keepBody ? r.body() : null);
        }
        return new Completion(job.jobId(), job.leaseToken(), job.attempt(), finalState, retryDelayMs, false,
                startedAt, finishedAt, null, null, null, null, null, null, null, null,
                errorKind == null ? null : errorKind.code(), errorMessage, t.dnsMs(), t.connectMs(), t.tlsMs(),
                t.ttfbMs(), t.totalMs(), t.remoteIp(), redirects, null);
    }

    /**
     * The attempt of a claim whose fetch a shutdown stopped: its request may have reached the host,
     * so it counts, and the job is due again at once (or failed, if that was its last attempt).
     */
    private static Completion stopped(ClaimedJob job) {
        Instant now = Instant.now();
        String message = "cancelled: the worker stopped before the response arrived";
        FetchOutcome stopped = new FetchOutcome.Failure(ErrorKind.CANCELLED, message, List.of(),
                new Timings(null, null, null, null, 0, null));
        return completion(job, stopped, null, job.hasAttemptsLeft() ? null : "failed", 0, ErrorKind.CANCELLED, message,
                now, now);
    }

    /** Gives the claim back without counting the attempt: it never reached the host. */
    private static Completion release(ClaimedJob job, long delayMs) {
        Instant now = Instant.now();
        return new Completion(job.jobId(), job.leaseToken(), job.attempt(), null, delayMs, true, now, now, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, 0, null, null, null);
    }

    /**
     * Every third of a lease: renew this worker's leases, show it alive, and — as every live
     * worker does — rescue jobs whose workers stopped renewing theirs.
     */
    private void beat() {
        try {
            queue.extendLeases(inFlight.stream().map(h -> h.job).toList(), properties.lease());
            workers.heartbeat(properties.id(), inFlight.size(), claiming ? "running" : "draining",
                    hosts.openHosts(OPEN_HOSTS_REPORTED), hosts.pausedHosts(OPEN_HOSTS_REPORTED));
            QueueQueries.Rescued rescued = queue.rescueExpired(RESCUE_BATCH);
            if (rescued.requeued() + rescued.ended() > 0) {
                log.info("[{}] rescued jobs with expired leases: {} back in the queue, {} ended", properties.id(),
                        rescued.requeued(), rescued.ended());
                wake();
            }
            workers.markLostAndPrune(properties.lease(), PRUNE_AFTER);
            hosts.evictIdle();
        } catch (Throwable t) {
            log.warn("[{}] heartbeat failed: {}", properties.id(), t.toString());
            metrics.loopFailed("heartbeat");
        }
    }

    /**
     * Graceful stop: claim nothing more, let in-flight fetches finish within the grace period, hand
     * the rest back without burning an attempt, write everything, and mark this worker stopped.
     */
    @Override
    public void close() {
        claiming = false;
        wakeup.release();
        log.info("[{}] stopping: {} jobs in flight, waiting up to {}", properties.id(), inFlight.size(),
                properties.shutdownGrace());
        try {
            claimer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long deadline = System.nanoTime() + properties.shutdownGrace().toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
            sleep(50);
        }
        if (!inFlight.isEmpty()) {
            // Past the grace: cancel the requests in flight and wake what waits (a host's bulkhead,
            // a backoff), and let each fetch thread hand over its own outcome — a sent request
            // counts as an attempt, one never sent is given back. Only then may the claims go back
            // to the queue: never while a request of theirs could still be under way.
            log.info("[{}] grace period over: cancelling {} fetches", properties.id(), inFlight.size());
            inFlight.forEach(h -> h.cancellation.cancel());
            fetchThreads.shutdownNow();
            long stopDeadline = System.nanoTime() + STOP_WAIT.toNanos();
            while (inFlight.stream().anyMatch(h -> !h.handedOver.get()) && System.nanoTime() < stopDeadline) {
                sleep(20);
            }
        }
        for (Held held : List.copyOf(inFlight)) {
            // A fetch thread that did not end in time: judge its claim from what it had done.
            if (held.handOver()) {
                ClaimedJob job = held.job;
                completer.submit(held.sent ? stopped(job) : release(job, 0), () -> { });
            }
        }
        fetchThreads.shutdownNow();
        completer.close();
        heartbeat.shutdownNow();
        try {
            workers.heartbeat(properties.id(), 0, "stopped");
        } catch (RuntimeException e) {
            log.warn("[{}] could not mark the worker stopped: {}", properties.id(), e.toString());
        }
        processor.close();
        fetcher.close();
        log.info("[{}] stopped", properties.id());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
