package io.fetchq.worker;

import io.fetchq.db.HostLedger;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.db.WorkerState;
import io.fetchq.worker.attempt.AttemptRunner;
import io.fetchq.worker.claim.Claimer;
import io.fetchq.worker.complete.Completer;
import io.fetchq.worker.crawl.CrawlLinks;
import io.fetchq.worker.fetch.Fetcher;
import io.fetchq.worker.host.HostGuards;
import io.fetchq.worker.lease.DatabaseLink;
import io.fetchq.worker.lease.Heartbeat;
import io.fetchq.worker.lease.Rescuer;
import io.fetchq.worker.loop.BackgroundLoop;
import io.fetchq.worker.retry.RetryPolicy;
import io.fetchq.worker.robots.Robots;
import io.fetchq.worker.time.Ticker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker: its parts wired together, started and stopped in order.
 *
 * <pre>
 * Claimer ──claims──▶ AttemptRunner ──endings──▶ Completer ──▶ PostgreSQL
 *    ▲                  (HostGuards)                 │
 *    └──── freed slots, hosts with room, results written
 * Heartbeat (renews leases) · Rescuer (expired leases back to the queue, once connected a lease)
 * Host sync (shares of hosts' fleet-wide limits, pauses and breakers: the host ledger)
 * </pre>
 *
 * See each part for what it owns; this class owns only their order.
 */
public final class Worker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final WorkerProperties properties;
    private final WorkerQueries workers;
    private final Completer completer;
    private final AttemptRunner runner;
    private final Claimer claimer;
    private final Heartbeat heartbeat;
    private final Rescuer rescuer;
    private final DatabaseLink link;
    private final HostGuards hosts;
    /** Shares of hosts' limits renewed, and the fleet's news of hosts read (HostGuards#sync). */
    private final BackgroundLoop hostSync;

    public Worker(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, HostLedger ledger,
            Fetcher fetcher) {
        this(properties, queue, workers, ledger, fetcher, WorkerMetrics.none());
    }

    public Worker(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, HostLedger ledger,
            Fetcher fetcher, WorkerMetrics metrics) {
        this(properties, queue, workers, ledger, fetcher, metrics, Clock.systemUTC(), Ticker.SYSTEM);
    }

    /** As above, on the given clocks: {@code clock} for attempt times, {@code ticker} for host pauses and breakers. */
    public Worker(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, HostLedger ledger,
            Fetcher fetcher, WorkerMetrics metrics, Clock clock, Ticker ticker) {
        this(properties, queue, workers, ledger, fetcher, metrics, clock, ticker, finished -> { });
    }

    /**
     * As above, telling {@code finished} of the {@link io.fetchq.db.Finished} keys of the jobs this
     * worker ends, once written (for the "jobs finished" notifications that wake waiting requests).
     */
    public Worker(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, HostLedger ledger,
            Fetcher fetcher, WorkerMetrics metrics, Clock clock, Ticker ticker, Consumer<List<String>> finished) {
        this.properties = properties;
        this.workers = workers;
        this.hosts = new HostGuards(properties, ticker, ledger);
        this.link = new DatabaseLink(ticker);
        this.hostSync = BackgroundLoop.every("host-sync", "fetchq-host-sync", properties.id(),
                link.failedThen(() -> metrics.loopFailed("host-sync")), Duration.ZERO, properties.hostSyncInterval(),
                hosts::sync);
        hosts.onTell(hostSync::wake);
        this.completer = new Completer(queue, properties.id(), properties.completeBatch(), properties.completeLinger(),
                properties.completers(), properties.maxBodyMemory().toBytes() / 2, link.failedThen(() -> metrics.loopFailed("complete")), ended -> {
                    link.succeeded();
                    if (!ended.isEmpty()) {
                        finished.accept(ended);
                    }
                });
        // The claimer and the runner call each other: the claimer hands the runner what it claims
        // (read through the field when it does, after construction), and the runner tells the
        // claimer of the slots and room each attempt frees.
        this.claimer = new Claimer(properties, queue, hosts, completer, metrics, link, () -> Worker.this.runner.freeSlots(),
                job -> Worker.this.runner.start(job));
        Robots robots = new Robots(ledger.robots(), fetcher, properties.robots(), properties.id(), clock);
        CrawlLinks crawlLinks = new CrawlLinks(ledger.crawls(), fetcher.policy(), robots, fetcher.userAgent());
        this.runner = new AttemptRunner(properties, queue, fetcher, robots, crawlLinks, new RetryPolicy(properties),
                hosts, completer, metrics, claimer, clock);
        this.heartbeat = new Heartbeat(properties, queue, workers, hosts, metrics, runner::claims, runner::held,
                claimer::claiming, runner::cancelLost, link);
        this.rescuer = new Rescuer(properties, queue, metrics, claimer::wake, finished, link);
        MeterRegistry registry = metrics.registry();
        runner.bindMetrics(registry);
        hosts.bindMetrics(registry);
        Gauge.builder("fetchq.in.flight", runner, AttemptRunner::held)
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
        link.succeeded();
        completer.start();
        hostSync.start();
        claimer.start();
        heartbeat.start();
        rescuer.start();
        log.info("[{}] worker started: {} in flight, {} per host, lease {}", properties.id(),
                properties.maxInFlight(), properties.perHost(), properties.lease());
    }

    /** Wakes the claimer now (new jobs were announced). */
    public void wake() {
        claimer.wake();
    }

    /**
     * Graceful stop: claim nothing more, let in-flight fetches finish within the grace period, hand
     * the rest back without burning an attempt, write everything, and mark this worker stopped.
     * Leases are renewed until everything is written.
     */
    @Override
    public void close() {
        log.info("[{}] stopping: {} jobs in flight, waiting up to {}", properties.id(), runner.held(),
                properties.shutdownGrace());
        claimer.close();
        runner.stop(properties.shutdownGrace());
        completer.close();
        rescuer.close();
        heartbeat.close();
        hostSync.close();
        try {
            hosts.releaseAll();
        } catch (RuntimeException e) {
            log.warn("[{}] could not hand back its shares of hosts (they expire within a lease): {}", properties.id(),
                    e.toString());
        }
        try {
            workers.heartbeat(properties.id(), 0, WorkerState.STOPPED);
        } catch (RuntimeException e) {
            log.warn("[{}] could not mark the worker stopped: {}", properties.id(), e.toString());
        }
        runner.close();
        log.info("[{}] stopped", properties.id());
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
