package io.fetchq.worker.attempt;

import io.fetchq.db.Claim;
import io.fetchq.db.ClaimedJob;
import io.fetchq.db.Completion;
import io.fetchq.db.CrawlLink;
import io.fetchq.db.QueueQueries;
import io.fetchq.worker.WorkerMetrics;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.complete.Completer;
import io.fetchq.worker.crawl.CrawlLinks;
import io.fetchq.worker.fetch.BodyBudget;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.fetch.Fetcher;
import io.fetchq.worker.host.HostGuard;
import io.fetchq.worker.host.HostGuards;
import io.fetchq.worker.process.Processor;
import io.fetchq.worker.retry.RetryPolicy;
import io.fetchq.worker.robots.Robots;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each claimed job on a virtual thread of its own, from its claim to its hand-over to the
 * completer: the host's gates (pause, breaker, rate limit, bulkhead), the fetch, the retry decision,
 * short retries waited out here under Resilience4j Retry (each attempt counted in the database before
 * it is made), and CPU work on the processor's pool. At most {@code max-in-flight} jobs fetch at once
 * (the global bulkhead); no database connection is held while a fetch is in flight.
 */
public final class AttemptRunner implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AttemptRunner.class);

    /** How a shutdown past its grace waits for cancelled fetches to hand over their outcomes. */
    public static final Duration STOP_WAIT = Duration.ofSeconds(5);

    /** What the runner tells the claimer: a fetch slot (and a host's room) freed, a result written. */
    public interface Freed {
        /** An attempt ended and freed its fetch slot and its room at {@code guard}'s host. */
        void fetchEnded(HostGuard guard);

        /** A result was written: the results waiting to be written went down. */
        void resultWritten();
    }

    private final WorkerProperties properties;
    private final QueueQueries queue;
    private final Fetcher fetcher;
    private final Robots robots;
    private final CrawlLinks crawlLinks;
    private final Processor processor;
    private final RetryPolicy retryPolicy;
    private final HostGuards hosts;
    private final Completer completer;
    private final WorkerMetrics metrics;
    private final Freed freed;
    private final Endings endings;
    private final Bulkhead global;
    private final BulkheadRegistry globalRegistry = BulkheadRegistry.ofDefaults();
    /** Claims held and not yet written back: their leases are renewed by the heartbeat. */
    private final Set<Held> inFlight = ConcurrentHashMap.newKeySet();
    /**
     * A {@link Retry} per number of attempts a claim may make: all else in its configuration is the
     * same for every job, and a call's progress lives in the context each call opens, so jobs share
     * them rather than building one (its metrics and event processor included) per job.
     */
    private final Map<Integer, Retry> retries = new ConcurrentHashMap<>();
    private final ExecutorService fetchThreads =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("fetchq-fetch-", 0).factory());
    private volatile boolean stopping;

    public AttemptRunner(WorkerProperties properties, QueueQueries queue, Fetcher fetcher, Robots robots,
            CrawlLinks crawlLinks, RetryPolicy retryPolicy, HostGuards hosts, Completer completer, WorkerMetrics metrics,
            Freed freed, Clock clock) {
        this.properties = properties;
        this.queue = queue;
        this.fetcher = fetcher;
        this.robots = robots;
        this.crawlLinks = crawlLinks;
        this.processor = new Processor(properties.cpuThreads());
        this.retryPolicy = retryPolicy;
        this.hosts = hosts;
        this.completer = completer;
        this.metrics = metrics;
        this.freed = freed;
        this.endings = new Endings(clock);
        this.global = globalRegistry.bulkhead("fetchq-global", BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxInFlight())
                .maxWaitDuration(Duration.ZERO)
                .build());
    }

    public void bindMetrics(MeterRegistry registry) {
        TaggedBulkheadMetrics.ofBulkheadRegistry(globalRegistry).bindTo(registry);
    }

    /** Fetch slots free now. */
    public int freeSlots() {
        return global.getMetrics().getAvailableConcurrentCalls();
    }

    /** Jobs held: fetching, waiting to retry, or being written. */
    public int held() {
        return inFlight.size();
    }

    /** The claims held now, for their leases to be renewed. */
    public List<Claim> claims() {
        return inFlight.stream().map(h -> h.job.claim()).toList();
    }

    /**
     * Stops the fetches of claims this worker no longer holds (the heartbeat found their leases
     * gone: rescued by another worker after this one stalled, or ended elsewhere): their results
     * would be dropped by the fence, and the job may already be fetched again elsewhere.
     *
     * @return how many claims were still being worked on here
     */
    public int cancelLost(Collection<Claim> lost) {
        if (lost.isEmpty()) {
            return 0;
        }
        // Job and token together name a claim: the jobs of one claim statement share its token.
        Set<Map.Entry<Long, UUID>> claims = new HashSet<>();
        lost.forEach(c -> claims.add(Map.entry(c.jobId(), c.leaseToken())));
        int cancelled = 0;
        for (Held held : inFlight) {
            Claim claim = held.job.claim();
            if (!held.handedOver() && claims.contains(Map.entry(claim.jobId(), claim.leaseToken()))) {
                held.cancellation.cancel();
                cancelled++;
            }
        }
        if (cancelled > 0) {
            metrics.leasesLost(cancelled);
            log.warn("[{}] lost the lease of {} jobs (rescued elsewhere after this worker could not renew them):"
                    + " their fetches are stopped and their results dropped", properties.id(), cancelled);
        }
        return cancelled;
    }

    /**
     * Starts the job's attempts on a thread of its own; once the runner is stopping, hands the claim
     * straight back instead (a claim statement may return after the claimer stopped waiting for it).
     */
    public void start(ClaimedJob job) {
        if (stopping) {
            handBack(job);
            return;
        }
        if (!global.tryAcquirePermission()) {
            // Cannot happen: claims never exceed free slots. Give the job back rather than overrun.
            completer.submit(endings.release(job, 0), () -> { });
            return;
        }
        HostGuard guard = hosts.acquire(job.host());
        Held held = new Held(job);
        inFlight.add(held);
        try {
            fetchThreads.submit(() -> run(held, guard));
        } catch (RejectedExecutionException stopped) {
            inFlight.remove(held);
            hosts.release(guard);
            global.onComplete();
            handBack(job);
        }
    }

    /**
     * Gives a claim that never started back to the queue, uncounted, in a statement of its own: the
     * completer may have stopped already. Should that fail too, the lease expires and a rescue
     * gives the job back (counting the attempt).
     */
    private void handBack(ClaimedJob job) {
        try {
            queue.completeMany(List.of(endings.release(job, 0)), properties.id());
        } catch (RuntimeException e) {
            log.warn("[{}] could not hand back job {} claimed while stopping: {}", properties.id(), job.jobId(),
                    e.toString());
        }
    }

    private void run(Held held, HostGuard guard) {
        Completion completion;
        try {
            completion = attempts(held, guard);
        } catch (Throwable t) {
            ClaimedJob job = held.job;
            log.error("[{}] job {} failed unexpectedly; handing it back", properties.id(), job.jobId(), t);
            completion = held.sent ? endings.stopped(job) : endings.release(job, properties.retryBase().toMillis());
        }
        // The fetch slot and the host's room are free once the attempt is over (the claim's lease is
        // held until the result is written).
        global.onComplete();
        freed.fetchEnded(guard);
        if (held.handOver()) {
            metrics.attempt(completion);
            completer.submit(completion, () -> written(held, guard));
        } else {
            // Shutdown already handed this claim back.
            written(held, guard);
        }
    }

    private void written(Held held, HostGuard guard) {
        held.releaseMemory();
        inFlight.remove(held);
        hosts.release(guard);
        freed.resultWritten();
    }

    /** An attempt's ending and how long to wait before the next one here (negative: no next one here). */
    private record Attempt(ClaimedJob job, Completion completion, long inProcessDelayMs) {
        static Attempt last(ClaimedJob job, Completion completion) {
            return new Attempt(job, completion, -1);
        }
    }

    /**
     * Makes the job's attempts under this claim: one, or more when a retry is due soon enough to
     * wait here. Before each further attempt the failed one is recorded and the next one counted
     * in one fenced statement, so the budget holds even if this process dies mid-request.
     */
    private Completion attempts(Held held, HostGuard guard) {
        ClaimedJob first = held.job;
        long inProcessMs = properties.inProcessRetry().toMillis();
        Retry retry = retries.computeIfAbsent(first.attemptLimit() - first.attempt() + 1, AttemptRunner::retry);
        AtomicReference<Attempt> last = new AtomicReference<>();
        Supplier<Attempt> attempts = Retry.decorateSupplier(retry, () -> {
            Attempt previous = last.get();
            ClaimedJob job = first;
            if (previous != null) {
                // Only a retry is retried here (see attempt).
                Completion.RetryAt failed = (Completion.RetryAt) previous.completion();
                if (!nextAttemptCounted(failed)) {
                    // Claim lost, cancel requested or database away: hand the failed attempt to the
                    // completer, whose fence writes it only if the claim still holds.
                    Attempt stop = Attempt.last(previous.job(), failed);
                    last.set(stop);
                    return stop;
                }
                metrics.attempt(failed);
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
                attempt = Attempt.last(job, endings.internalError(job, e, retryPolicy.backoffMs(job.attemptInBudget())));
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

    private static Retry retry(int attempts) {
        return Retry.of("attempts-" + attempts, RetryConfig.<Attempt>custom()
                .maxAttempts(attempts)
                .retryOnResult(a -> a.inProcessDelayMs() >= 0)
                .intervalBiFunction((n, result) -> result.isRight() ? result.get().inProcessDelayMs() : 0L)
                .build());
    }

    private boolean nextAttemptCounted(Completion.RetryAt failed) {
        try {
            return queue.nextAttempt(failed, properties.id(), properties.lease());
        } catch (RuntimeException e) {
            // The database is away: the completer, which retries until it is back, records the
            // failed attempt and queues the job again.
            log.warn("[{}] could not start attempt {} of job {}: {}", properties.id(), failed.claim().attempt() + 1,
                    failed.claim().jobId(), e.toString());
            return false;
        }
    }

    private Attempt attempt(Held held, ClaimedJob job, HostGuard guard, long inProcessMs) {
        if (job.obeyRobots()) {
            Robots.Verdict verdict;
            try {
                verdict = robots.check(job.url());
            } catch (RuntimeException databaseAway) {
                // The rules are the fleet's, kept in the database: without them, no request.
                log.debug("[{}] no robots.txt rules for job {}: {}", properties.id(), job.jobId(), databaseAway.toString());
                return Attempt.last(job, endings.release(job, properties.retryBase().toMillis()));
            }
            if (verdict instanceof Robots.Verdict.Refused refused) {
                return Attempt.last(job, endings.refusedByRobots(job, refused.reason()));
            }
            if (verdict instanceof Robots.Verdict.Wait wait) {
                return Attempt.last(job, endings.release(job, wait.ms()));
            }
        }
        long paused = guard.pausedForMs();
        if (paused > inProcessMs) {
            return Attempt.last(job, endings.release(job, paused));
        }
        if (paused > 0) {
            sleep(paused);
        }
        if (!guard.tryAdmit()) {
            return Attempt.last(job, endings.release(job, guard.deferMs()));
        }
        boolean permitted;
        try {
            permitted = guard.acquire(HostGuards.MAX_QUEUE_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            permitted = false;
        } catch (RuntimeException ledgerAway) {
            // The host's rate is the fleet's, kept in the database: without it, no request.
            log.debug("[{}] no instant of {}'s rate: {}", properties.id(), job.host(), ledgerAway.toString());
            permitted = false;
        }
        if (!permitted) {
            // No slot of the host in time, the fleet holding the host back, or an interrupt while
            // waiting (shutdown): no request was made, so the attempt is not one.
            guard.unused();
            return Attempt.last(job, endings.release(job, properties.retryBase().toMillis()));
        }
        if (held.cancellation.cancelled() || Thread.currentThread().isInterrupted()) {
            // A shutdown woke it while it waited: nothing was sent.
            guard.released();
            guard.unused();
            return Attempt.last(job, endings.release(job, 0));
        }
        paused = guard.pausedForMs();
        if (paused > 0) {
            // The fleet paused the host while this fetch waited for its turn.
            guard.released();
            guard.unused();
            return Attempt.last(job, endings.release(job, paused));
        }
        FetchOutcome outcome;
        // From here a request may reach the host: the attempt counts, whatever happens next. Its
        // time starts here too, not in the queue for the host's rate limit or bulkhead.
        held.sent = true;
        Instant startedAt = endings.now();
        long started = System.nanoTime();
        try {
            outcome = fetcher.fetch(job, held.cancellation);
        } catch (RuntimeException e) {
            guard.unused();
            throw e;
        } finally {
            guard.released();
        }
        long took = System.nanoTime() - started;
        BodyBudget.Reservation memory = outcome instanceof FetchOutcome.Response r ? r.memory() : null;
        Attempt attempt = null;
        try {
            attempt = judge(held, job, guard, outcome, took, startedAt, inProcessMs);
            return attempt;
        } finally {
            if (memory != null) {
                // The body's memory is held until its result is written when the result keeps the
                // body; otherwise the body is dropped here, and its memory with it.
                if (attempt != null && attempt.completion() instanceof Completion.Attempted a
                        && a.payload().body() != null) {
                    held.keep(memory);
                } else {
                    memory.release();
                }
            }
        }
    }

    /** What a fetch's outcome means: the attempt's ending, and whether to retry here. */
    private Attempt judge(Held held, ClaimedJob job, HostGuard guard, FetchOutcome outcome, long took,
            Instant startedAt, long inProcessMs) {
        metrics.fetched(outcome.timings());
        if (held.cancellation.cancelled()) {
            // Stopped by a shutdown past its grace: says nothing about the host, and is not retried here.
            guard.unused();
            return Attempt.last(job, endings.stopped(job));
        }
        guard.record(outcome, job.jobId(), took);
        RetryPolicy.Decision decision = retryPolicy.decide(outcome, job.attemptInBudget(), job.hasAttemptsLeft());
        return switch (decision) {
            case RetryPolicy.Decision.Final f -> {
                FetchOutcome.Response response = outcome instanceof FetchOutcome.Response r ? r : null;
                // A crawl's page is read for links when it answered with a page (2xx).
                boolean crawled = job.crawl() != null && response != null && response.status() >= 200
                        && response.status() < 300;
                boolean sitemap = crawled && job.crawl().sitemap();
                Processor.Processed processed = response == null ? null : processor.process(response.body(),
                        response.contentType(), response.finalUrl(), job.extract(),
                        crawled && !sitemap ? crawlLinks.token() : null);
                List<CrawlLink> links = !crawled ? List.of()
                        : sitemap ? crawlLinks.ofSitemap(job, response)
                        : crawlLinks.of(job, response.finalUrl(), processed, response.robotsTag());
                yield Attempt.last(job, endings.ended(job, outcome, f, processed, startedAt, links));
            }
            case RetryPolicy.Decision.Retry r -> {
                if (r.hostPauseMs() > 0) {
                    guard.pauseFor(r.hostPauseMs());
                }
                yield new Attempt(job, endings.retry(job, outcome, r, startedAt),
                        r.delayMs() <= inProcessMs && !stopping ? r.delayMs() : -1);
            }
        };
    }

    /**
     * Graceful stop: no more in-process retries; in-flight fetches may finish within the grace
     * period; past it, the requests in flight are cancelled and each claim is handed over — a sent
     * request counts as an attempt, one never sent is given back.
     */
    public void stop(Duration grace) {
        stopping = true;
        long deadline = System.nanoTime() + grace.toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
            sleep(50);
        }
        if (!inFlight.isEmpty()) {
            // Past the grace: cancel the requests in flight and wake what waits (a host's bulkhead,
            // a backoff), and let each fetch thread hand over its own outcome. Only then may the
            // claims go back to the queue: never while a request of theirs could still be under way.
            log.info("[{}] grace period over: cancelling {} fetches", properties.id(), inFlight.size());
            inFlight.forEach(h -> h.cancellation.cancel());
            fetchThreads.shutdownNow();
            long stopDeadline = System.nanoTime() + STOP_WAIT.toNanos();
            while (inFlight.stream().anyMatch(h -> !h.handedOver()) && System.nanoTime() < stopDeadline) {
                sleep(20);
            }
        }
        for (Held held : List.copyOf(inFlight)) {
            // A fetch thread that did not end in time: judge its claim from what it had done.
            if (held.handOver()) {
                ClaimedJob job = held.job;
                completer.submit(held.sent ? endings.stopped(job) : endings.release(job, 0), () -> { });
            }
        }
        fetchThreads.shutdownNow();
    }

    @Override
    public void close() {
        fetchThreads.shutdownNow();
        processor.close();
        fetcher.close();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
