package io.fetchq.api;

import io.fetchq.api.security.Caller;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.db.JobState;
import io.fetchq.db.StatsQueries;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /api/v1/stats}: the installation at a glance, computed at most once per {@code fetchq.api.stats-max-age}. */
@Tag(name = "Operations", description = "The installation at a glance, and URL checks")
@RestController
class StatsController {

    /**
     * @param jobs jobs by state
     * @param oldestDueAgeMs how long the oldest due job has waited to be claimed (the lag); 0 when none waits
     * @param completionsPerSecond jobs that reached a final state per second, over the last minute
     * @param workers workers by state
     * @param liveWorkers workers running or draining
     * @param failuresLastHour jobs failed in the last hour, by error kind
     * @param stuckHosts hosts with due jobs waiting past {@code fetchq.api.stuck-host-after}, none running,
     *     and nothing holding them back
     * @param longestWaiting the hosts whose oldest due job has waited longest, and how long
     * @param asOf when these figures were read
     */
    record Stats(@Schema(description = "jobs by state") Map<String, Long> jobs, long oldestDueAgeMs,
            double completionsPerSecond, Map<String, Long> workers, long liveWorkers,
            Map<String, Long> failuresLastHour, long stuckHosts,
            @Schema(hidden = true) @com.fasterxml.jackson.annotation.JsonIgnore List<StatsQueries.HostWait> longestWaiting,
            OffsetDateTime asOf) {
    }

    /** Hosts given a series of their own in {@code fetchq_host_oldest_due_age_seconds}: those waiting longest. */
    static final int HOSTS_IN_METRICS = 10;

    private final StatsQueries queries;
    private final long maxAgeNanos;
    private final java.time.Duration stuckAfter;
    private volatile Stats cached;
    private volatile long cachedAt;

    StatsController(StatsQueries queries, ApiProperties properties, ObjectProvider<MeterRegistry> meters) {
        this.queries = queries;
        this.maxAgeNanos = properties.statsMaxAge().toNanos();
        this.stuckAfter = properties.stuckHostAfter();
        meters.ifAvailable(this::bindMetrics);
    }

    /**
     * The same figures as Prometheus gauges, read when scraped (and cached like the call): jobs by
     * state, the lag, jobs finished over the last minute, workers by state.
     */
    private void bindMetrics(MeterRegistry registry) {
        for (String state : JobState.CODES) {
            Gauge.builder("fetchq.jobs", this, c -> c.stats().jobs().get(state))
                    .description("Jobs by state").tag("state", state).register(registry);
        }
        Gauge.builder("fetchq.oldest.due.age", this, c -> c.stats().oldestDueAgeMs() / 1000.0)
                .description("How long the oldest due job has waited to be claimed").baseUnit("seconds")
                .register(registry);
        Gauge.builder("fetchq.jobs.finished.last.minute", this, c -> c.stats().completionsPerSecond() * 60)
                .description("Jobs that reached a final state in the last minute").register(registry);
        for (String state : List.of("running", "draining", "stopped", "lost")) {
            Gauge.builder("fetchq.workers", this, c -> c.stats().workers().get(state))
                    .description("Workers by state").tag("state", state).register(registry);
        }
        Gauge.builder("fetchq.hosts.stuck", this, c -> c.stats().stuckHosts())
                .description("Hosts with due jobs waiting past fetchq.api.stuck-host-after, none running, "
                        + "nothing holding them back")
                .register(registry);
        // One series per host for the few waiting longest only: a crawl of many hosts must not make
        // a series per host. Refreshed on every read of the stats.
        hostWaits = MultiGauge.builder("fetchq.host.oldest.due.age")
                .description("How long the host's oldest due job has waited, for the hosts waiting longest")
                .baseUnit("seconds")
                .register(registry);
    }

    private volatile MultiGauge hostWaits;

    @Operation(summary = "Hosts", description = "The busiest hosts of the caller's jobs (an admin's: everyone's): "
            + "jobs queued and running, how long the oldest due job has waited, jobs finished and failed over the "
            + "last 15 minutes, whether a live worker holds the host's circuit breaker open or is honouring its "
            + "Retry-After, and whether the host is stuck (due jobs waiting past fetchq.api.stuck-host-after, none "
            + "running, nothing holding it back).")
    @Requires(Scope.READ)
    @GetMapping("/api/v1/hosts")
    List<StatsQueries.HostRow> hosts(@Parameter(description = "hosts to list, 1 to 1000 (default 50)")
            @RequestParam(required = false, defaultValue = "50") int limit, Caller caller) {
        Listings.checkLimit(limit);
        return queries.hosts(limit, caller.visibleTenant(), stuckAfter);
    }

    @Operation(summary = "Stats", description = "Jobs by state, the age of the oldest due job, jobs finished per "
            + "second over the last minute, workers by state; cached for fetchq.api.stats-max-age.")
    @Requires(Scope.READ)
    @GetMapping("/api/v1/stats")
    Stats stats() {
        Stats current = cached;
        if (current != null && System.nanoTime() - cachedAt < maxAgeNanos) {
            return current;
        }
        synchronized (this) {
            if (cached != null && System.nanoTime() - cachedAt < maxAgeNanos) {
                return cached;
            }
            StatsQueries.Stats read = queries.read();
            StatsQueries.Waiting waiting = queries.waiting(HOSTS_IN_METRICS, stuckAfter);
            current = new Stats(read.jobs(), read.oldestDueMs(), Math.round(read.finishedLastMinute() / 60.0 * 100) / 100.0,
                    read.workers(), read.workers().get("running") + read.workers().get("draining"),
                    read.failuresLastHour(), waiting.stuckHosts(), waiting.longest(), OffsetDateTime.now(ZoneOffset.UTC));
            cached = current;
            cachedAt = System.nanoTime();
            MultiGauge gauges = hostWaits;
            if (gauges != null) {
                gauges.register(waiting.longest().stream()
                        .map(w -> MultiGauge.Row.of(Tags.of("host", w.host()), w.oldestDueAgeMs() / 1000.0))
                        .toList(), true);
            }
            return current;
        }
    }
}
