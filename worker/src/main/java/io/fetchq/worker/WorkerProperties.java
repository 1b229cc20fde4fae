package io.fetchq.worker;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * How a worker claims, paces and retries. Every field is {@code fetchq.worker.*}.
 *
 * @param enabled run the worker loops in this process. Default true for the worker application;
 *     the API turns it on only in its one-command (embedded database) mode.
 * @param id this worker's name in {@code fetchq.workers} and attempts. Default
 *     {@code hostname-pid-random}.
 * @param maxInFlight jobs fetched at once by this worker: the global bulkhead. Default 256; each
 *     holds up to its {@code max_body_bytes} in memory.
 * @param perHost jobs fetched at once per target host. Default 8: polite to one server.
 * @param hostLimits per-host overrides of {@code per-host}, e.g. {@code fetchq.worker.host-limits.example.com=2}.
 * @param hostBufferPercent jobs a worker claims of a host beyond its limit, as a percentage of the
 *     limit: they wait in the worker, so that a fetch of a busy host starts the moment one ends
 *     instead of after a result is written and a claim made, and claims come in batches. Default
 *     400; 0 claims only what can start at once. Never more than the limit are fetched at once.
 * @param hostBufferMax most jobs claimed of one host beyond its limit, whatever the percentage.
 *     Default 64: a host with a large limit does not hold leases on hundreds of waiting jobs.
 * @param hostRate requests per second per host, 0 for no limit. Default 0.
 * @param hostRates per-host overrides of {@code host-rate}.
 * @param claimBatch most jobs claimed in one statement. Default 128; the claim also never takes
 *     more than the free in-flight slots.
 * @param pollInterval how often an idle worker looks for due jobs. Default 1s.
 * @param lease how long a claim lives without a heartbeat; heartbeats renew it every third of it.
 *     Default 30s: a crashed worker's jobs come back after about this long.
 * @param rescueInterval how often the worker looks for jobs whose lease expired (their worker
 *     crashed or stalled) and gives them back to the queue. Default: a third of the lease.
 * @param retryBase first backoff of a retryable failure. Default 1s; doubles per attempt, ±20 %.
 * @param retryCap longest backoff. Default 10m.
 * @param retryAfterCap longest {@code Retry-After} honoured. Default 1h.
 * @param inProcessRetry backoffs up to this long wait in the worker (keeping the claim); longer
 *     ones go back to the queue. Default 5s.
 * @param completeBatch most attempts written per statement. Default 500.
 * @param completeLinger how long a result may wait for others to share its statement: a writer that
 *     finds fewer than a batch waiting gathers what ends until the first of them is this old. Fewer,
 *     larger statements cost the database and the worker less per job; a job's result is written
 *     up to this much later. Default 10ms; 0 writes whatever is waiting at once.
 * @param completers threads writing results side by side. Default 1; more overlap one batch's
 *     round trip and commit with the next, at the price of smaller batches.
 * @param cpuThreads threads for hashing and HTML extraction. Default: available processors.
 * @param breakerFailureRate failure percentage over the window that opens a host's breaker. Default 50.
 * @param breakerWindow calls in a host breaker's sliding window. Default 20.
 * @param breakerMinimumCalls calls before a breaker may open. Default 10.
 * @param breakerOpenFor how long an open breaker keeps a host's jobs waiting. Default 60s.
 * @param breakerTrialCalls trial calls a breaker makes when its open time is up, each on a different
 *     job drawn at random from the host's due jobs; it closes again unless they fail at
 *     {@code breaker-failure-rate}. Default 5: more judge the host better, and cost more if it is down.
 * @param hostIdleEviction per-host limiters and breakers unused this long are dropped. Default 5m.
 * @param maxHosts most hosts a worker keeps state for (slots, breaker); past it the least recently
 *     used idle ones are dropped at once. Default 10,000.
 * @param hostSyncInterval how often a worker renews its shares of hosts' limits and reads what the
 *     fleet learned about hosts (pauses, breakers, an admin's limits); what it learns itself is told
 *     at once. Default 500ms.
 * @param shutdownGrace on SIGTERM, how long in-flight fetches may finish before their jobs are
 *     handed back. Default 20s: with the 5 s that cancelled fetches get to hand over and the time to
 *     write their results, it fits Kubernetes' default 30 s (compose gives workers 40 s).
 * @param maxBodyMemory memory for response bodies held by this worker: a body over 64 KiB is read
 *     only once its bytes are reserved here (its announced length up to its cap, or twice the cap
 *     when none is announced), and they stay reserved until its result is written; fetches wait
 *     for room, in turn, rather than the worker running out of heap. Default a quarter of the
 *     heap ({@code -Xmx}). Results are written in statements of at most half of it.
 * @param metricsHosts hosts whose bulkhead, rate limiter and circuit breaker get metrics labelled
 *     with the host name. Default none: per-host series are opt-in, so that a crawl of a million
 *     hosts does not make a million series.
 * @param robots how jobs that obey robots.txt get their origins' rules: {@code fetchq.worker.robots.*},
 *     see {@link RobotsSettings}.
 */
@Validated
@ConfigurationProperties("fetchq.worker")
public record WorkerProperties(
        @DefaultValue("true") boolean enabled,
        String id,
        @DefaultValue("256") @Min(1) @Max(100_000) int maxInFlight,
        @DefaultValue("8") @Min(1) @Max(10_000) int perHost,
        @DefaultValue Map<String, Integer> hostLimits,
        @DefaultValue("400") @Min(0) @Max(10_000) int hostBufferPercent,
        @DefaultValue("64") @Min(0) @Max(100_000) int hostBufferMax,
        @DefaultValue("0") @Min(0) double hostRate,
        @DefaultValue Map<String, Double> hostRates,
        @DefaultValue("128") @Min(1) @Max(10_000) int claimBatch,
        @DefaultValue("1s") @NotNull Duration pollInterval,
        @DefaultValue("30s") @NotNull Duration lease,
        Duration rescueInterval,
        @DefaultValue("1s") @NotNull Duration retryBase,
        @DefaultValue("10m") @NotNull Duration retryCap,
        @DefaultValue("1h") @NotNull Duration retryAfterCap,
        @DefaultValue("5s") @NotNull Duration inProcessRetry,
        @DefaultValue("500") @Min(1) @Max(10_000) int completeBatch,
        @DefaultValue("10ms") @NotNull Duration completeLinger,
        @DefaultValue("1") @Min(1) @Max(64) int completers,
        @DefaultValue("0") @Min(0) @Max(1024) int cpuThreads,
        @DefaultValue("50") @Min(1) @Max(100) int breakerFailureRate,
        @DefaultValue("20") @Min(1) @Max(10_000) int breakerWindow,
        @DefaultValue("10") @Min(1) @Max(10_000) int breakerMinimumCalls,
        @DefaultValue("60s") @NotNull Duration breakerOpenFor,
        @DefaultValue("5") @Min(1) @Max(1000) int breakerTrialCalls,
        @DefaultValue("5m") @NotNull Duration hostIdleEviction,
        @DefaultValue("10000") @Min(1) @Max(10_000_000) int maxHosts,
        @DefaultValue("500ms") @NotNull Duration hostSyncInterval,
        @DefaultValue("20s") @NotNull Duration shutdownGrace,
        DataSize maxBodyMemory,
        @DefaultValue List<String> metricsHosts,
        @DefaultValue @NotNull RobotsSettings robots) {

    /**
     * robots.txt, fetched per origin by one worker at a time and kept in the database for the fleet.
     * Every field is {@code fetchq.worker.robots.*}.
     *
     * @param freshness how long an answer (a 2xx's rules, or a 4xx: allow all) is used before the
     *     origin's robots.txt is fetched again. Default 24h (RFC 9309).
     * @param keepGood how long the last good copy serves while the origin answers 5xx or 429, or
     *     nothing. Default 30d.
     * @param retryUnreachable how soon an origin that gave no usable answer is tried again; doubles
     *     with each failure in a row, up to an hour. Default 1m.
     * @param maxWait how long jobs of an origin with no usable robots.txt (and no good copy) wait,
     *     queued without spending attempts, before they fail with {@code error_kind = robots}.
     *     Default 1h.
     * @param timeout the whole fetch of one robots.txt, its redirects included. Default 30s.
     * @param cachedOrigins origins whose rules a worker keeps in memory. Default 10,000.
     */
    public record RobotsSettings(
            @DefaultValue("24h") @NotNull Duration freshness,
            @DefaultValue("30d") @NotNull Duration keepGood,
            @DefaultValue("1m") @NotNull Duration retryUnreachable,
            @DefaultValue("1h") @NotNull Duration maxWait,
            @DefaultValue("30s") @NotNull Duration timeout,
            @DefaultValue("10000") @Min(1) @Max(10_000_000) int cachedOrigins) {

        public RobotsSettings {
            requirePositive("fetchq.worker.robots.freshness", freshness);
            requirePositive("fetchq.worker.robots.keep-good", keepGood);
            requirePositive("fetchq.worker.robots.retry-unreachable", retryUnreachable);
            requirePositive("fetchq.worker.robots.max-wait", maxWait);
            requirePositive("fetchq.worker.robots.timeout", timeout);
        }
    }

    /** The share of the heap that {@code max-body-memory} is by default. */
    public static final double DEFAULT_BODY_MEMORY_SHARE = 0.25;

    public WorkerProperties {
        if (id == null || id.isBlank()) {
            id = defaultId();
        }
        if (cpuThreads == 0) {
            cpuThreads = Runtime.getRuntime().availableProcessors();
        }
        hostLimits = hostLimits == null ? Map.of() : Map.copyOf(hostLimits);
        hostRates = hostRates == null ? Map.of() : Map.copyOf(hostRates);
        metricsHosts = metricsHosts == null ? List.of() : List.copyOf(metricsHosts);
        if (maxBodyMemory == null) {
            maxBodyMemory = DataSize.ofBytes((long) (Runtime.getRuntime().maxMemory() * DEFAULT_BODY_MEMORY_SHARE));
        } else if (maxBodyMemory.toBytes() < 1024 * 1024) {
            throw new IllegalArgumentException("fetchq.worker.max-body-memory must be at least 1MB");
        }
        requirePositive("fetchq.worker.poll-interval", pollInterval);
        requirePositive("fetchq.worker.lease", lease);
        requirePositive("fetchq.worker.rescue-interval", rescueInterval);
        if (rescueInterval == null && lease != null) {
            rescueInterval = Duration.ofMillis(Math.max(100, lease.toMillis() / 3));
        }
        requirePositive("fetchq.worker.retry-base", retryBase);
        requirePositive("fetchq.worker.host-sync-interval", hostSyncInterval);
        requirePositive("fetchq.worker.breaker-open-for", breakerOpenFor);
        if (completeLinger != null && (completeLinger.isNegative() || completeLinger.toMillis() > 1000)) {
            throw new IllegalArgumentException("fetchq.worker.complete-linger must be between 0 and 1s");
        }
        if (lease != null && lease.toMillis() < 300) {
            throw new IllegalArgumentException("fetchq.worker.lease must be at least 300ms");
        }
        if (retryBase != null && retryCap != null && retryCap.compareTo(retryBase) < 0) {
            throw new IllegalArgumentException("fetchq.worker.retry-cap must not be below fetchq.worker.retry-base");
        }
        hostLimits.forEach((host, limit) -> {
            if (limit == null || limit < 1) {
                throw new IllegalArgumentException("fetchq.worker.host-limits." + host + " must be at least 1");
            }
        });
    }

    /** The concurrency limit for one host. */
    public int limitFor(String host) {
        return hostLimits.getOrDefault(host, perHost);
    }

    /** Jobs a worker may hold of one host: its limit, and the buffer that waits behind it. */
    public int claimLimitFor(String host) {
        return claimLimit(limitFor(host));
    }

    /** {@link #claimLimitFor} of a host with no limit of its own. */
    public int claimLimit() {
        return claimLimit(perHost);
    }

    /** Most jobs of a host held active with {@code limit} slots: the slots and the buffer behind them. */
    public int claimLimit(int limit) {
        return limit + (int) Math.min(hostBufferMax, Math.ceil(limit * hostBufferPercent / 100.0));
    }

    /** Requests per second allowed to one host, 0 for none. */
    public double rateFor(String host) {
        return hostRates.getOrDefault(host, hostRate);
    }

    private static void requirePositive(String name, Duration value) {
        if (value != null && (value.isZero() || value.isNegative())) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }

    private static String defaultId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "worker";
        }
        long pid = ManagementFactory.getRuntimeMXBean().getPid();
        return host + "-" + pid + "-" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 16), 36);
    }
}
