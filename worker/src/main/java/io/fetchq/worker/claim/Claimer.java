package io.fetchq.worker.claim;

import io.fetchq.db.ClaimedJob;
import io.fetchq.db.QueueQueries;
import io.fetchq.worker.WorkerMetrics;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.attempt.AttemptRunner;
import io.fetchq.worker.complete.Completer;
import io.fetchq.worker.host.HostGuard;
import io.fetchq.worker.host.HostGuards;
import io.fetchq.worker.lease.DatabaseLink;
import io.fetchq.worker.loop.BackgroundLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * Claims due jobs for the attempt runner, never more than it has free fetch slots for (backpressure,
 * like a bounded {@code asyncio.Queue}) and, per host, never more than the host has room for. A claim
 * commits before any fetch starts. Runs on a loop of its own; woken by new jobs, freed slots and
 * hosts whose buffer ran half down, and at every poll interval.
 */
public final class Claimer implements AttemptRunner.Freed, AutoCloseable {

    /**
     * How far down the claim order a claim looks for jobs of hosts with room, per job wanted: wider
     * finds more hosts with room behind a busy one, and costs the claim statement more.
     */
    static final int CLAIM_SCAN_FACTOR = 2;

    /** Due jobs of a half-open host that its trial jobs are drawn from at random. */
    static final int TRIAL_SAMPLE = 200;

    /** Most scheduled jobs one statement promotes to the claim order once due. */
    static final int PROMOTE_BATCH = 5000;

    /** Scheduled jobs that came due are promoted at most this often (at every full pass, so at least every poll). */
    static final Duration PROMOTE_EVERY = Duration.ofMillis(100);

    /** Most hosts one claim pass walks looking for due jobs beyond the claim order's window. */
    static final int MAX_HOSTS_VISITED = 1000;

    private final WorkerProperties properties;
    private final QueueQueries queue;
    private final HostGuards hosts;
    private final Completer completer;
    private final WorkerMetrics metrics;
    private final IntSupplier freeSlots;
    private final Consumer<ClaimedJob> start;
    private final BackgroundLoop loop;
    private final Semaphore wakeup = new Semaphore(0);
    /** Where the next walk over hosts beyond the claim window starts (claimer thread only). */
    private String walkCursor = "";
    /** Jobs the current claim pass took, by host (claimer thread only). */
    private final Map<String, Integer> takenByHost = new HashMap<>();
    /** When the claimer last promoted scheduled jobs that came due (claimer thread only). */
    private long lastPromoteNanos = System.nanoTime() - Duration.ofDays(1).toNanos();
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

    /**
     * @param link told of claims that fail (the database may be away)
     * @param freeSlots fetch slots free now
     * @param start starts a claimed job's attempts
     */
    public Claimer(WorkerProperties properties, QueueQueries queue, HostGuards hosts, Completer completer,
            WorkerMetrics metrics, DatabaseLink link, IntSupplier freeSlots, Consumer<ClaimedJob> start) {
        this.properties = properties;
        this.queue = queue;
        this.hosts = hosts;
        this.completer = completer;
        this.metrics = metrics;
        this.freeSlots = freeSlots;
        this.start = start;
        this.loop = BackgroundLoop.continuous("claim", "fetchq-claimer", properties.id(),
                link.failedThen(() -> metrics.loopFailed("claim")), this::pass);
    }

    public void start() {
        loop.start();
    }

    /** Whether claiming goes on (false once the worker is stopping). */
    public boolean claiming() {
        return loop.running();
    }

    /** Wakes the claimer now for a full pass (new jobs were announced, or rescued). */
    public void wake() {
        fullPass = true;
        wakeup.release();
    }

    @Override
    public void fetchEnded(HostGuard guard) {
        // Claim again once the host's buffer has run half down, so that it refills while results
        // are written in the background, in claims of several jobs.
        if (hosts.fetched(guard)) {
            refills.add(guard.host());
            wakeup.release();
        } else if (slotBound) {
            wakeup.release();
        }
    }

    @Override
    public void resultWritten() {
        // A claim held back by the results waiting to be written may go ahead. Wake-ups coalesce,
        // so this is at most one claim per loop.
        if (slotBound) {
            wakeup.release();
        }
    }

    private void pass() {
        // Free fetch slots, while the results waiting to be written stay under one batch: a slow
        // database slows claiming instead of piling up results in memory.
        int free = completer.backlogFull() ? 0
                : Math.min(freeSlots.getAsInt(), properties.completeBatch() - completer.backlog());
        int want = Math.min(free, properties.claimBatch());
        if (want <= 0) {
            slotBound = true;
            awaitWork();
            return;
        }
        // A full pass at least every poll interval, however busy refills keep the claimer: jobs of
        // other hosts come due (backoffs, deferrals) without anything announcing them.
        long now = System.nanoTime();
        boolean full = fullPass || refills.isEmpty() || now - lastFullPassNanos >= properties.pollInterval().toNanos();
        fullPass = false;
        if (full) {
            lastFullPassNanos = now;
        }
        int claimed = full ? claim(want) : refill(want);
        // Took all it asked for: there may be more anywhere, and the next freed slot should claim it.
        slotBound = claimed == want;
        if (slotBound) {
            fullPass = true;
        } else {
            awaitWork();
        }
    }

    /**
     * One claim pass for up to {@code want} jobs: trial jobs for half-open breakers, then the claim
     * order's window for the hosts with room; then, if that came back short, hosts this worker holds
     * no slots of — those of the window's jobs, and, at most once per poll interval, those with due
     * jobs anywhere in the order (a walk over hosts that goes on where the last one stopped) — are
     * asked of the ledger, and their first jobs claimed up to the room granted. Together they keep
     * the liveness invariant: a worker with free slots leaves no due job of a host with room
     * unclaimed for longer than one poll interval.
     */
    private int claim(int want) {
        long started = System.nanoTime();
        if (started - lastPromoteNanos >= PROMOTE_EVERY.toNanos()) {
            lastPromoteNanos = started;
            // Scheduled jobs that came due join the claim order (they are kept out of it until then).
            while (queue.promoteDue(PROMOTE_BATCH) == PROMOTE_BATCH && loop.running()) {
                lastPromoteNanos = System.nanoTime();
            }
        }
        HostGuards.Room room = hosts.room();
        Map<String, Integer> offered = new HashMap<>(room.ordinary());
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
        List<String> unserved = new ArrayList<>();
        if (claimed < want) {
            claimed += started(queue.claimDue(properties.id(), want - claimed, (want - claimed) * CLAIM_SCAN_FACTOR,
                    hosts.defaultRoom(), room.ordinary(), properties.hostBufferPercent(), properties.hostBufferMax(),
                    properties.lease(), unserved));
        }
        if (claimed < want && !unserved.isEmpty()) {
            // The window held jobs of hosts with no room here: those this worker holds no slots of
            // are asked of the ledger, and what it grants is claimed at once.
            claimed += claimGranted(hosts.discovered(unserved), want - claimed, offered);
        }
        long now = System.nanoTime();
        if (claimed < want && now - lastWalkNanos >= properties.pollInterval().toNanos()) {
            // Short: the window may have been filled by jobs of hosts with too little room for them
            // (a busy host's backlog), with other hosts' due jobs behind it. Once per poll interval at
            // most: that is the liveness promise, and a host kept busy by its own backlog would
            // otherwise have every wake-up walk the hosts for nothing.
            lastWalkNanos = now;
            int hostsToVisit = Math.min(MAX_HOSTS_VISITED, want - claimed + room.ordinary().size());
            QueueQueries.Walk walk = queue.walkHosts(walkCursor, hostsToVisit);
            // Goes on after the last host visited next time, so that hosts late in the name order get
            // their turn however many ahead of them have no room; starts over once it reached the end.
            walkCursor = walk.next();
            Map<String, Integer> roomy = new HashMap<>(hosts.discovered(walk.hosts()));
            for (String host : walk.hosts()) {
                // The window is not locked, so the room it left may have gone to its own jobs since:
                // read each host's room again rather than overrun it.
                HostGuard guard = hosts.get(host);
                int free = guard != null ? guard.freeRoom() : hosts.defaultRoom();
                if (free > 0) {
                    roomy.put(host, free);
                }
            }
            claimed += claimGranted(roomy, want - claimed, offered);
        }
        hosts.claimed(claimed < want, offered, takenByHost);
        takenByHost.clear();
        return claimed;
    }

    /** Claims the first jobs of the given hosts, up to each one's room and {@code most} in all. */
    private int claimGranted(Map<String, Integer> room, int most, Map<String, Integer> offered) {
        Map<String, Integer> asked = new HashMap<>();
        int total = 0;
        for (Map.Entry<String, Integer> e : room.entrySet()) {
            int n = Math.min(e.getValue(), most - total);
            if (n > 0) {
                asked.put(e.getKey(), n);
                offered.merge(e.getKey(), n, Integer::sum);
                total += n;
            }
        }
        return asked.isEmpty() ? 0 : started(queue.claimHosts(properties.id(), asked, properties.lease()));
    }

    /**
     * A pass that only refills hosts this worker is busy with, whose fetches ended and left half
     * their buffer free: one statement reading each host's next jobs from its own index. The claim
     * order across hosts is read by full passes: at every poll, at every announcement of new jobs,
     * and whenever free slots rather than hosts' room held claiming back.
     */
    private int refill(int want) {
        Map<String, Integer> offered = new HashMap<>();
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

    private int started(List<ClaimedJob> claimed) {
        metrics.claimed(claimed.size());
        for (ClaimedJob job : claimed) {
            takenByHost.merge(job.host(), 1, Integer::sum);
            start.accept(job);
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

    /** Claims nothing more; returns once the pass under way has ended. */
    @Override
    public void close() {
        loop.close(Duration.ZERO);
        wakeup.release();
        loop.close(Duration.ofSeconds(10));
    }
}
