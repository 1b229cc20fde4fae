package io.fetchq.worker.host;

import io.fetchq.worker.fetch.ErrorKind;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.time.Ticker;
import io.fetchq.db.HostLedger;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;

/**
 * What protects one target host: this worker's share of the host's fleet-wide limit on requests in
 * flight ({@link HostSlots}), the host's fleet-wide rate ({@link HostRate}), its circuit breaker, a
 * pause asked for by {@code Retry-After}, and how many of its jobs this worker holds. Pauses and the
 * breaker's opening are told to the ledger ({@link Events}) and learned from it, so that every worker
 * honours them; the ledger decides which one worker makes a half-open breaker's trial calls.
 *
 * <p>The breaker must never starve a host where some URLs fail and others answer. So: it counts
 * only failures that say the host itself is unwell (no connection, no answer), each job's at most
 * once, so that one URL failing all its attempts cannot open it alone; an HTTP response of any
 * status is the host answering. While it is open the host gets no claims, and jobs that meet it are
 * put back spread over the next open period. When the open time is up, {@code trialCalls} trial
 * jobs are claimed as a random sample of the host's due jobs, never one that failed a recent trial,
 * so that a block of failing URLs at the head of the queue cannot keep the host closed: the trials
 * see the host as its jobs are, not as its oldest ones are.
 */
public final class HostGuard {

    /**
     * How long a pause or breaker change made here outweighs older ledger state read since: the
     * ledger may not have it yet (it is told asynchronously, within a sync interval).
     */
    static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(3);

    /** How often a fetch waiting for a slot looks whether the fleet holds the host back. */
    static final Duration HOLD_CHECK = Duration.ofMillis(500);

    /** What this worker learned about a host that the whole fleet must honour. */
    interface Events {
        void paused(String host, long millis);

        void opened(String host);

        void closed(String host);

        Events NONE = new Events() {
            @Override
            public void paused(String host, long millis) {
            }

            @Override
            public void opened(String host) {
            }

            @Override
            public void closed(String host) {
            }
        };
    }

    final String host;
    /** This host's limit in the worker's configuration: how many slots it asks the ledger for. */
    final int limit;
    final double configuredRate;
    final HostSlots slots;
    final HostRate rate;
    final CircuitBreaker breaker;
    /** Without a ledger (a guard on its own) slots are this worker's alone and trials need no one's leave. */
    private final boolean fleet;
    private final Events events;
    private final IntUnaryOperator claimLimitOf;
    /** The host's rate as the ledger last told it (an admin's, else the configured one), 0: none. */
    volatile double ledgerRate;
    /** The ledger lets this worker make the half-open breaker's trial calls. */
    private volatile boolean trialsGranted;
    /** The ledger says another worker is making the trial calls: this one makes no request. */
    private volatile boolean heldByFleet;
    /** When this worker last paused the host or changed its breaker on its own. */
    private volatile long localChangeNanos;
    /** Set while ledger state is applied: transitions it makes are not told back to the ledger. */
    private volatile boolean applying;
    /** What the sync last asked the ledger for, and when it last renewed the share (sync thread only). */
    int lastWant = -1;
    int lastHeldReported;
    /** When the ledger last granted this worker nothing of the host it asked for (sync and claimer, under the take lock). */
    long refusedAtNanos;
    int lastInUseReported = -1;
    long lastReportNanos;
    boolean contended;
    /** The ledger's row of the host changed: renew the share in this sync (sync thread only). */
    boolean recheck;
    private final int trialCalls;
    private final Ticker ticker;
    private final long openForNanos;
    /** Jobs of this host claimed by this worker and not yet written back. */
    volatile int held;
    /**
     * Of those, jobs not done fetching (waiting for the host, fetching, waiting to retry): what the
     * host's claim room counts. A result being written no longer holds the host.
     */
    volatile int active;
    /** The last claim pass left this host with room: it had no more due jobs to reach then. */
    volatile boolean drained;
    volatile long lastUsedNanos;
    /** When the claimer last saw due jobs of this host in the queue. */
    volatile long seenDueNanos;
    private volatile long pausedUntilNanos;
    private volatile long openUntilNanos;
    /** Trial jobs the current half-open window may still claim; guarded by this. */
    private int trialSlots;
    /** Jobs whose failure the breaker counted lately (each job's once); guarded by this. */
    private final LinkedHashSet<Long> countedFailures = new LinkedHashSet<>();
    private final int countedFailuresKept;
    /** Jobs that failed a trial call lately: never chosen as the next trials; guarded by this. */
    private final LinkedHashSet<Long> trialFailures = new LinkedHashSet<>();
    private final int failureRate;
    /**
     * The current half-open window, guarded by this: trial calls admitted and not yet ended, how
     * those that ended went, and whether the host ran out of due jobs to try (then the window is
     * judged on the trials it had, rather than waiting for calls that will not come).
     */
    private int trialsInFlight;
    private int trialSuccesses;
    private int trialsFailed;
    private boolean trialSupplyShort;

    HostGuard(String host, int limit, IntUnaryOperator claimLimitOf, double configuredRate, HostRate.Source rates,
            boolean fleet, Events events, CircuitBreaker breaker, int trialCalls, long openForNanos, int window,
            int failureRate, Ticker ticker) {
        this.host = host;
        this.ticker = ticker;
        this.lastUsedNanos = ticker.nanos();
        this.seenDueNanos = lastUsedNanos;
        this.lastReportNanos = lastUsedNanos - TimeUnit.DAYS.toNanos(1);
        this.refusedAtNanos = lastReportNanos;
        this.limit = limit;
        this.claimLimitOf = claimLimitOf;
        this.configuredRate = configuredRate;
        this.slots = new HostSlots(ticker);
        this.rate = new HostRate(host, rates);
        this.fleet = fleet;
        this.events = events;
        this.breaker = breaker;
        this.trialCalls = trialCalls;
        this.openForNanos = openForNanos;
        this.countedFailuresKept = Math.max(64, 4 * window);
        this.failureRate = failureRate;
        breaker.getEventPublisher().onStateTransition(
                e -> transitioned(e.getStateTransition().getFromState(), e.getStateTransition().getToState()));
    }

    public String host() {
        return host;
    }

    /**
     * Waits for the host's next instant of its fleet-wide rate (none when it has no rate), then for
     * one of this worker's slots of the host.
     *
     * @return false when no slot came within {@code maxWait}, or the fleet holds the host back: no request may be made
     */
    public boolean acquire(Duration maxWait) throws InterruptedException {
        double known = ledgerRate;
        if (known > 0 || configuredRate > 0) {
            rate.acquire(configuredRate, known);
        }
        // Gives up as soon as the fleet holds the host back (another worker makes the trial calls,
        // a pause, an open breaker): the job goes back to the queue, where the worker making the
        // trials can take it, rather than wait here for slots this worker will not get meanwhile.
        long deadline = System.nanoTime() + maxWait.toNanos();
        while (!heldByFleet && pausedForMs() == 0 && breaker.getState() != CircuitBreaker.State.OPEN) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            if (slots.acquire(Duration.ofNanos(Math.min(left, HOLD_CHECK.toNanos())))) {
                return true;
            }
        }
        return false;
    }

    /** A request that {@link #acquire} allowed has ended. */
    public void released() {
        slots.release();
    }

    /** Most jobs of this host the worker holds active: its slots and the buffer behind them. */
    int claimLimit() {
        return claimLimitOf.applyAsInt(slots.granted());
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    /** Makes every fetch to this host wait {@code millis} from now (the server said Retry-After). */
    public void pauseFor(long millis) {
        long now = ticker.nanos();
        long until = now + millis * 1_000_000;
        if (until - pausedUntilNanos > 0) {
            pausedUntilNanos = until;
            localChangeNanos = now;
            events.paused(host, millis);
        }
    }

    /** Milliseconds the host is still paused for, 0 when it is not. */
    public long pausedForMs() {
        return Math.max(0, (pausedUntilNanos - ticker.nanos()) / 1_000_000);
    }

    /** Milliseconds until an open breaker lets trial calls through, 0 when it is not open. */
    public long openForMs() {
        if (breaker.getState() != CircuitBreaker.State.OPEN) {
            return 0;
        }
        return Math.max(0, (openUntilNanos - ticker.nanos()) / 1_000_000);
    }

    /**
     * How long a job that met the open (or busy half-open) breaker waits in the queue: the rest of
     * the open time plus a random part of one more, so that the host's jobs come back spread out
     * rather than all at once, behind the jobs that have not met it.
     */
    public long deferMs() {
        long openForMs = TimeUnit.NANOSECONDS.toMillis(openForNanos);
        return Math.max(100, openForMs() + ThreadLocalRandom.current().nextLong(openForMs + 1));
    }

    /**
     * Whether the breaker lets one attempt through. Every admitted attempt ends in exactly one of
     * {@link #recordSuccess}, {@link #recordFailure} or {@link #unused}.
     */
    public boolean tryAdmit() {
        if (heldByFleet) {
            return false;
        }
        refresh();
        boolean trial = breaker.getState() == CircuitBreaker.State.HALF_OPEN;
        if (!breaker.tryAcquirePermission()) {
            return false;
        }
        if (trial) {
            synchronized (this) {
                trialsInFlight++;
            }
        }
        return true;
    }

    /**
     * Records what an admitted attempt's outcome says about the host: whether it answered. A
     * response of any status is the host answering, and a 5xx is that URL's own trouble (a host
     * that asks everyone to wait says so with Retry-After, which pauses it); certificate and policy
     * failures do not change from one attempt to the next, so a breaker would only delay them.
     */
    public void record(FetchOutcome outcome, long jobId, long tookNanos) {
        if (outcome instanceof FetchOutcome.Failure f && (f.kind() == ErrorKind.CONNECT
                || f.kind() == ErrorKind.TIMEOUT || f.kind() == ErrorKind.RESET || f.kind() == ErrorKind.DNS)) {
            recordFailure(jobId, tookNanos, f.kind().code() + ": " + f.message());
        } else {
            recordSuccess(tookNanos);
        }
    }

    /** The host answered (any HTTP status). */
    public void recordSuccess(long tookNanos) {
        boolean trial = breaker.getState() == CircuitBreaker.State.HALF_OPEN;
        breaker.onSuccess(tookNanos, TimeUnit.NANOSECONDS);
        if (trial) {
            trialEnded(true);
        }
    }

    /**
     * The host did not answer {@code jobId}'s request (no connection, timeout, reset). Counted once
     * per job: a job's further failures say nothing more about the host than its first did.
     */
    public void recordFailure(long jobId, long tookNanos, String why) {
        boolean first;
        boolean trial;
        synchronized (this) {
            first = countedFailures.add(jobId);
            if (countedFailures.size() > countedFailuresKept) {
                countedFailures.removeFirst();
            }
            trial = breaker.getState() == CircuitBreaker.State.HALF_OPEN;
            if (trial) {
                trialFailures.add(jobId);
                if (trialFailures.size() > 4 * trialCalls) {
                    trialFailures.removeFirst();
                }
            }
        }
        if (first) {
            breaker.onError(tookNanos, TimeUnit.NANOSECONDS, new HostFailure(why));
            if (trial) {
                trialEnded(false);
            }
        } else {
            unused();
        }
    }

    /** An admitted attempt that made no request (or whose failure is not counted): its permission goes back. */
    public void unused() {
        boolean trial = breaker.getState() == CircuitBreaker.State.HALF_OPEN;
        breaker.releasePermission();
        if (trial) {
            synchronized (this) {
                trialSlots = Math.min(trialCalls, trialSlots + 1);
                trialsInFlight = Math.max(0, trialsInFlight - 1);
            }
        }
    }

    private synchronized void trialEnded(boolean success) {
        trialsInFlight = Math.max(0, trialsInFlight - 1);
        if (success) {
            trialSuccesses++;
        } else {
            trialsFailed++;
        }
        judgeShortWindow();
    }

    /**
     * A trial claim for this host found {@code found} of the {@code asked} due jobs it wanted: fewer
     * means the host has no more to try, and the window is judged on the trials it has.
     */
    public synchronized void trialsFound(int asked, int found) {
        trialSlots = Math.max(0, trialSlots - found);
        if (found < asked) {
            trialSupplyShort = true;
            judgeShortWindow();
        }
    }

    /** Closes or opens a half-open breaker whose host ran out of jobs to try, once its trials have ended. */
    private void judgeShortWindow() {
        int ended = trialSuccesses + trialsFailed;
        if (!trialSupplyShort || trialsInFlight > 0 || ended == 0
                || breaker.getState() != CircuitBreaker.State.HALF_OPEN) {
            return;
        }
        if (trialsFailed * 100 >= failureRate * ended) {
            breaker.transitionToOpenState();
        } else {
            breaker.transitionToClosedState();
        }
    }

    /** Jobs the ordinary claim may take of this host now, or -1 when none is active (its claim limit applies). */
    /** Jobs this host can take now: its claim limit less those active; 0 while paused or not closed. */
    public synchronized int freeRoom() {
        refresh();
        if (heldByFleet || pausedForMs() > 0 || breaker.getState() != CircuitBreaker.State.CLOSED) {
            return 0;
        }
        return Math.max(0, claimLimit() - active);
    }

    /** Trial jobs to claim now: some while the breaker is half-open and its window has room, else 0. */
    synchronized int trialRoom() {
        if (heldByFleet || breaker.getState() != CircuitBreaker.State.HALF_OPEN || pausedForMs() > 0) {
            return 0;
        }
        return Math.max(0, Math.min(trialSlots, slots.granted() - active));
    }

    /** Whether the breaker's open time is up and it waits for the ledger's leave to make trial calls. */
    boolean awaitsTrials() {
        return fleet && !trialsGranted && breaker.getState() == CircuitBreaker.State.OPEN
                && ticker.nanos() - openUntilNanos >= 0;
    }

    /**
     * Applies the ledger's state of the host: its pause, its breaker (open until, half-open with
     * this worker or another making the trials, closed) and its rate. State changed here within
     * {@link #SETTLE_NANOS} is not undone by it (the ledger may not have heard of it yet), only
     * made stricter.
     */
    void applyLedger(long pausedMs, HostLedger.Breaker fleetBreaker, long openMs, boolean myTrials, double ratePerS) {
        long now = ticker.nanos();
        boolean settled = now - localChangeNanos >= SETTLE_NANOS;
        ledgerRate = ratePerS;
        long until = now + pausedMs * 1_000_000;
        if (settled || until - pausedUntilNanos > 0) {
            pausedUntilNanos = until;
        }
        applying = true;
        try {
            switch (fleetBreaker) {
                case OPEN -> {
                    trialsGranted = false;
                    heldByFleet = false;
                    if (breaker.getState() != CircuitBreaker.State.OPEN) {
                        breaker.transitionToOpenState();
                    }
                    openUntilNanos = now + openMs * 1_000_000;
                }
                case HALF_OPEN -> {
                    trialsGranted = myTrials;
                    heldByFleet = !myTrials;
                    if (myTrials && breaker.getState() != CircuitBreaker.State.HALF_OPEN) {
                        if (breaker.getState() != CircuitBreaker.State.OPEN) {
                            breaker.transitionToOpenState();
                        }
                        openUntilNanos = now;
                        refresh();
                    }
                }
                case CLOSED -> {
                    trialsGranted = false;
                    heldByFleet = false;
                    if (settled && breaker.getState() != CircuitBreaker.State.CLOSED) {
                        breaker.transitionToClosedState();
                    }
                }
            }
        } finally {
            applying = false;
        }
    }

    /** Whether the ledger holds this host back from this worker: another worker makes its trial calls. */
    boolean heldByFleet() {
        return heldByFleet;
    }

    /** Jobs not to pick as trials: those that failed a recent one. */
    public synchronized List<Long> trialExclusions() {
        return new ArrayList<>(trialFailures);
    }

    /** Moves an open breaker whose time is up to half-open, where it takes trial calls. */
    private void refresh() {
        if (breaker.getState() == CircuitBreaker.State.OPEN && ticker.nanos() - openUntilNanos >= 0
                && (!fleet || trialsGranted)) {
            try {
                breaker.transitionToHalfOpenState();
            } catch (IllegalStateException raced) {
                // Another thread moved it first.
            }
        }
    }

    private void transitioned(CircuitBreaker.State from, CircuitBreaker.State to) {
        if (!applying) {
            localChangeNanos = ticker.nanos();
            if (to == CircuitBreaker.State.OPEN) {
                events.opened(host);
            } else if (to == CircuitBreaker.State.CLOSED && from == CircuitBreaker.State.HALF_OPEN) {
                events.closed(host);
            }
        }
        if (to != CircuitBreaker.State.HALF_OPEN) {
            trialsGranted = false;
        }
        synchronized (this) {
            trialSlots = to == CircuitBreaker.State.HALF_OPEN ? trialCalls : 0;
            trialsInFlight = 0;
            trialSuccesses = 0;
            trialsFailed = 0;
            trialSupplyShort = false;
        }
        if (to == CircuitBreaker.State.OPEN) {
            openUntilNanos = ticker.nanos() + openForNanos;
        }
    }

    /** A host failure as the circuit breaker records it. */
    static final class HostFailure extends RuntimeException {
        HostFailure(String message) {
            super(message, null, false, false);
        }
    }
}
