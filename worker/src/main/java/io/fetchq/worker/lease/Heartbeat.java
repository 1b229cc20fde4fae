package io.fetchq.worker.lease;

import io.fetchq.db.Claim;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.db.WorkerState;
import io.fetchq.worker.WorkerMetrics;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.host.HostGuards;
import io.fetchq.worker.loop.BackgroundLoop;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Every third of a lease, and at once when the database is reachable again after a failure:
 * renews the leases of the claims this worker holds (stopping the work of those it no longer holds),
 * shows the worker alive in {@code fetchq.workers} with the hosts it holds back, marks workers that
 * stopped showing themselves as lost, and drops the guards of hosts idle too long.
 */
public final class Heartbeat implements AutoCloseable {

    /** Most open-breaker hosts, and most paused hosts, a heartbeat reports (for the API's hosts view). */
    static final int OPEN_HOSTS_REPORTED = 100;

    /** How long stopped and lost workers stay in {@code fetchq.workers}. */
    static final Duration PRUNE_AFTER = Duration.ofDays(1);

    private final WorkerProperties properties;
    private final QueueQueries queue;
    private final WorkerQueries workers;
    private final HostGuards hosts;
    private final Supplier<List<Claim>> claims;
    private final IntSupplier held;
    private final BooleanSupplier running;
    private final Consumer<List<Claim>> lost;
    private final DatabaseLink link;
    private final BackgroundLoop loop;

    /**
     * @param claims the claims held now
     * @param held how many jobs the worker holds
     * @param running whether the worker is running (else draining)
     * @param lost told of the claims whose lease was not renewed: no longer this worker's
     * @param link told of every renewal's success or failure; a reconnection renews at once
     */
    public Heartbeat(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, HostGuards hosts,
            WorkerMetrics metrics, Supplier<List<Claim>> claims, IntSupplier held, BooleanSupplier running,
            Consumer<List<Claim>> lost, DatabaseLink link) {
        this.properties = properties;
        this.queue = queue;
        this.workers = workers;
        this.hosts = hosts;
        this.claims = claims;
        this.held = held;
        this.running = running;
        this.lost = lost;
        this.link = link;
        Duration beat = interval(properties);
        this.loop = BackgroundLoop.every("heartbeat", "fetchq-heartbeat", properties.id(),
                link.failedThen(() -> metrics.loopFailed("heartbeat")), beat, beat, this::beat);
        // Leases that expired while the database was away are renewed the moment it is back: a
        // rescuer waits a whole lease after its own reconnection before it takes any.
        link.onReconnect(loop::wake);
    }

    /** A third of the lease, at least 100 ms. */
    public static Duration interval(WorkerProperties properties) {
        return Duration.ofMillis(Math.max(100, properties.lease().toMillis() / 3));
    }

    public void start() {
        loop.start();
    }

    private void beat() {
        List<Claim> notRenewed = queue.extendLeases(claims.get(), properties.lease());
        workers.heartbeat(properties.id(), held.getAsInt(), running.getAsBoolean() ? WorkerState.RUNNING
                : WorkerState.DRAINING, hosts.openHosts(OPEN_HOSTS_REPORTED), hosts.pausedHosts(OPEN_HOSTS_REPORTED));
        workers.markLostAndPrune(properties.lease(), PRUNE_AFTER);
        link.succeeded();
        lost.accept(notRenewed);
        hosts.evictIdle();
    }

    /** Stops beating (the pass under way ends first). */
    @Override
    public void close() {
        loop.interrupt();
    }
}
