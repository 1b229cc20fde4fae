package io.fetchq.worker;

import io.fetchq.db.Completion;
import io.fetchq.worker.fetch.BodyBudget;
import io.fetchq.worker.fetch.Timings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What a worker counts and times, as Micrometer meters. Every tag has a small, fixed set of values
 * (outcomes, error kinds, phases): never a URL or a host.
 */
public final class WorkerMetrics {

    private final MeterRegistry registry;
    private final Counter claims;
    private final Counter claimedJobs;
    private final Counter leasesLost;
    private final Map<String, Counter> attempts = new ConcurrentHashMap<>();
    private final Map<String, Counter> loopFailures = new ConcurrentHashMap<>();
    private final Map<String, Counter> webhookAttempts = new ConcurrentHashMap<>();
    private final Timer dns;
    private final Timer connect;
    private final Timer tls;
    private final Timer ttfb;
    private final Timer total;

    public WorkerMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.claims = Counter.builder("fetchq.claims").description("Claim statements run").register(registry);
        this.claimedJobs = Counter.builder("fetchq.claimed.jobs").description("Jobs claimed").register(registry);
        this.leasesLost = Counter.builder("fetchq.worker.leases.lost")
                .description("Claims found no longer held at a lease renewal while still being worked on; their fetches were stopped")
                .register(registry);
        this.dns = phase("dns");
        this.connect = phase("connect");
        this.tls = phase("tls");
        this.ttfb = phase("ttfb");
        this.total = phase("total");
    }

    /** Meters that go nowhere: for workers built without a meter registry (tests, the benchmark). */
    public static WorkerMetrics none() {
        return new WorkerMetrics(new CompositeMeterRegistry());
    }

    MeterRegistry registry() {
        return registry;
    }

    private Timer phase(String phase) {
        return Timer.builder("fetchq.fetch.duration")
                .description("Time of one fetch attempt by phase (dns, connect, tls, ttfb, total), over its redirect hops")
                .tag("phase", phase)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(2))
                .register(registry);
    }

    public void claimed(int jobs) {
        claims.increment();
        claimedJobs.increment(jobs);
    }

    /** The body memory's capacity, what is reserved of it, the reads waiting for it and how many waited. */
    public void bindBodyBudget(BodyBudget budget) {
        Gauge.builder("fetchq.body.memory.capacity", budget, b -> b.capacity())
                .description("Bytes of response bodies this worker may hold (fetchq.worker.max-body-memory)")
                .baseUnit("bytes").register(registry);
        Gauge.builder("fetchq.body.memory.used", budget, b -> b.inUse())
                .description("Bytes of response bodies reserved now: being read, or held until their result is written")
                .baseUnit("bytes").register(registry);
        Gauge.builder("fetchq.body.memory.waiting", budget, b -> b.queued())
                .description("Body reads waiting for memory now")
                .register(registry);
        FunctionCounter.builder("fetchq.body.memory.waits", budget, b -> b.waits())
                .description("Body reads that waited for memory")
                .register(registry);
    }

    public void leasesLost(int claims) {
        leasesLost.increment(claims);
    }

    /** An attempt's outcome as it goes to be written: completed, failed, cancelled, retry or released. */
    public void attempt(Completion c) {
        String outcome = switch (c) {
            case Completion.Completed x -> "completed";
            case Completion.Failed x -> "failed";
            case Completion.RetryAt x -> "retry";
            case Completion.Released x -> "released";
        };
        String kind = c instanceof Completion.Attempted a ? a.attempt().errorKind() : null;
        String errorKind = kind == null ? "none" : kind;
        attempts.computeIfAbsent(outcome + '|' + errorKind, k -> Counter.builder("fetchq.attempts")
                .description("Attempts by outcome and error kind (released: handed back without counting)")
                .tag("outcome", outcome)
                .tag("error_kind", errorKind)
                .register(registry)).increment();
    }

    /** A background loop's pass failed (it logs, waits and goes on): claim, heartbeat, complete. */
    /** A webhook delivery attempt recorded: delivered, retry, gave_up or gone. */
    public void webhookAttempt(String outcome) {
        webhookAttempts.computeIfAbsent(outcome, o -> Counter.builder("fetchq.webhook.attempts")
                .description("Webhook delivery attempts by outcome: delivered (2xx), retry (sent again later), "
                        + "gave_up (the last attempt failed), gone (410: endpoint disabled)")
                .tag("outcome", o)
                .register(registry)).increment();
    }

    public void loopFailed(String loop) {
        loopFailures.computeIfAbsent(loop, l -> loopFailures(registry, l)).increment();
    }

    /** The failure counter of one background loop, for loops that live outside the worker (retention). */
    public static Counter loopFailures(MeterRegistry registry, String loop) {
        return Counter.builder("fetchq.loop.failures")
                .description("Failed passes of a worker's background loops; each is retried")
                .tag("loop", loop)
                .register(registry);
    }

    public void fetched(Timings t) {
        record(dns, t.dnsMs());
        record(connect, t.connectMs());
        record(tls, t.tlsMs());
        record(ttfb, t.ttfbMs());
        record(total, t.totalMs());
    }

    private static void record(Timer timer, Integer millis) {
        if (millis != null) {
            timer.record(millis, TimeUnit.MILLISECONDS);
        }
    }
}
