package io.fetchq.worker.webhook;

import io.fetchq.db.BatchQueries;
import io.fetchq.db.DueDelivery;
import io.fetchq.db.JobQueries;
import io.fetchq.db.JobResource;
import io.fetchq.db.WebhookQueries;
import io.fetchq.db.WebhookQueries.Ending;
import io.fetchq.db.WebhookSignature;
import io.fetchq.url.FetchProperties;
import io.fetchq.url.SecretHeaders;
import io.fetchq.url.UrlCheck;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.WorkerMetrics;
import io.fetchq.worker.fetch.GuardedDns;
import io.fetchq.worker.fetch.HttpFetcher;
import io.fetchq.worker.fetch.Json;
import io.fetchq.worker.loop.BackgroundLoop;
import java.io.IOException;
import java.net.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import okhttp3.Dns;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/**
 * Sends webhook deliveries, after the Standard Webhooks specification: claims due ones (every
 * worker does, skipping each other's), renders a first attempt's body from the event's batch or
 * job as the REST API shows it, signs it and POSTs it, and records each attempt with what follows.
 * A {@code 2xx} is delivered; anything else (a redirect too: not followed) is sent again after
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (each ±10%, never sooner than a {@code Retry-After}),
 * then given up; {@code 410 Gone} disables the endpoint at once, and so does failing for
 * {@code disable-after}. Endpoints are dialled under the URL policy of jobs: a webhook cannot
 * reach what a job may not.
 */
public final class WebhookSender implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);

    /** Delays before the second to the eighth attempt. */
    public static final List<Duration> RETRY_DELAYS = List.of(Duration.ofSeconds(5), Duration.ofMinutes(5),
            Duration.ofMinutes(30), Duration.ofHours(2), Duration.ofHours(5), Duration.ofHours(10), Duration.ofHours(10));

    /** Longest error text kept per attempt. */
    private static final int MAX_ERROR = 500;

    private static final MediaType JSON_TYPE = MediaType.get("application/json");

    private final WebhookProperties properties;
    private final WebhookQueries queries;
    private final JobQueries jobs;
    private final BatchQueries batches;
    private final UrlPolicy policy;
    private final SecretHeaders secrets;
    private final String userAgent;
    private final OkHttpClient client;
    private final Clock clock;
    private final WorkerMetrics metrics;
    private final String workerId;
    private final Runnable passFailed;
    private final JsonMapper json = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build();
    private final Semaphore slots;
    private final ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();
    private BackgroundLoop loop;
    private volatile boolean closing;

    public WebhookSender(WebhookProperties properties, WebhookQueries queries, JobQueries jobs, BatchQueries batches,
            UrlPolicy policy, FetchProperties fetch, Dns dns, Clock clock, WorkerMetrics metrics, String workerId,
            Runnable passFailed) {
        this.properties = properties;
        this.queries = queries;
        this.jobs = jobs;
        this.batches = batches;
        this.policy = policy;
        this.secrets = SecretHeaders.of(fetch.secretHeaders());
        this.userAgent = fetch.userAgent();
        this.clock = clock;
        this.metrics = metrics;
        this.workerId = workerId;
        this.passFailed = passFailed;
        this.slots = new Semaphore(properties.maxInFlight());
        this.client = new OkHttpClient.Builder()
                .followRedirects(false)
                .followSslRedirects(false)
                .retryOnConnectionFailure(false)
                .proxy(Proxy.NO_PROXY)
                .dns(new GuardedDns(policy, dns))
                .callTimeout(properties.timeout())
                .connectTimeout(properties.timeout())
                .readTimeout(properties.timeout())
                .build();
    }

    public void start() {
        if (!properties.enabled()) {
            log.info("[{}] webhooks are off here: this worker sends no deliveries", workerId);
            return;
        }
        loop = BackgroundLoop.every("webhooks", "fetchq-webhooks", workerId, passFailed, properties.pollInterval(),
                properties.pollInterval(), this::runOnce);
        loop.start();
    }

    /** One pass: claims as many due deliveries as there are free slots and starts sending them. */
    public int runOnce() {
        int free = slots.drainPermits();
        List<DueDelivery> due;
        try {
            due = free == 0 ? List.of() : queries.claimDue(free, properties.timeout().multipliedBy(2));
        } catch (RuntimeException e) {
            slots.release(free);
            throw e;
        }
        slots.release(free - due.size());
        for (DueDelivery delivery : due) {
            senders.submit(() -> {
                try {
                    send(delivery);
                } catch (RuntimeException e) {
                    // Left claimed: due again once its claim runs out, recorded then as lost.
                    log.warn("[{}] delivery {} could not be recorded: {}", workerId, delivery.deliveryId(), e.toString());
                } finally {
                    slots.release();
                }
            });
        }
        return due.size();
    }

    /** Makes one attempt of the delivery and records it. */
    void send(DueDelivery delivery) {
        Instant started = clock.instant();
        String body = delivery.payload();
        if (body == null) {
            Optional<String> rendered = render(delivery);
            if (rendered.isEmpty()) {
                record(delivery, Ending.GAVE_UP, null, "the event's " + subjectKind(delivery) + " no longer exists",
                        started, null);
                return;
            }
            body = queries.keepPayload(delivery, rendered.get());
        }
        UrlCheck check = policy.check(delivery.url());
        if (!check.allowed()) {
            record(delivery, Ending.GAVE_UP, null, "blocked: " + check.reason(), started, null);
            return;
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        long timestamp = clock.instant().getEpochSecond();
        Request request = new Request.Builder()
                .url(check.url())
                .header("User-Agent", userAgent)
                .header("webhook-id", delivery.messageId())
                .header("webhook-timestamp", Long.toString(timestamp))
                .header("webhook-signature", WebhookSignature.sign(delivery.secret(), delivery.messageId(), timestamp, bytes))
                .post(RequestBody.create(bytes, JSON_TYPE))
                .build();
        try (Response response = client.newCall(request).execute()) {
            int status = response.code();
            if (status >= 200 && status < 300) {
                record(delivery, Ending.DELIVERED, status, null, started, null);
            } else if (status == 410) {
                record(delivery, Ending.GONE, status, "HTTP 410: the endpoint is gone and now disabled", started, null);
            } else {
                Long retryAfterMs = HttpFetcher.retryAfterMs(response.header("Retry-After"), clock);
                failed(delivery, status, "HTTP " + status, started, retryAfterMs);
            }
        } catch (IOException e) {
            if (closing) {
                // Cut by this worker's shutdown: says nothing of the endpoint. The claim runs out and
                // another worker sends it again.
                return;
            }
            failed(delivery, null, clip(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), started,
                    null);
        }
    }

    private void failed(DueDelivery delivery, Integer status, String error, Instant started, Long retryAfterMs) {
        Instant next = nextAttempt(delivery.attempt(), clock.instant(), retryAfterMs);
        if (next == null) {
            record(delivery, Ending.GAVE_UP, status, error, started, null);
        } else {
            record(delivery, Ending.RETRY, status, error, started, next);
        }
    }

    /**
     * When attempt {@code attempt + 1} is due after attempt {@code attempt} failed at {@code now}:
     * its delay of {@link #RETRY_DELAYS} ±10%, and never before the answer's {@code Retry-After}
     * (up to {@link #MAX_RETRY_AFTER}); null after the last.
     */
    static Instant nextAttempt(int attempt, Instant now, Long retryAfterMs) {
        if (attempt > RETRY_DELAYS.size()) {
            return null;
        }
        long delay = RETRY_DELAYS.get(attempt - 1).toMillis();
        long jittered = (long) (delay * (0.9 + 0.2 * ThreadLocalRandom.current().nextDouble()));
        long asked = retryAfterMs == null ? 0 : Math.min(retryAfterMs, MAX_RETRY_AFTER.toMillis());
        return now.plusMillis(Math.max(jittered, asked));
    }

    /** The longest {@code Retry-After} obeyed: the schedule's longest delay (a longer one is read as this). */
    static final Duration MAX_RETRY_AFTER = Duration.ofHours(10);

    private void record(DueDelivery delivery, Ending ending, Integer status, String error, Instant started,
            Instant next) {
        if (!queries.record(delivery, ending, status, error, started, next, properties.disableAfter())) {
            log.debug("[{}] delivery {}: claim no longer held, attempt not recorded", workerId, delivery.deliveryId());
            return;
        }
        metrics.webhookAttempt(ending.name().toLowerCase(java.util.Locale.ROOT));
        if (ending == Ending.GONE) {
            log.info("[{}] webhook {} answered 410 Gone: disabled", workerId, delivery.webhookId());
        }
    }

    /**
     * The body of the event: {@code {"type", "timestamp", "data"}}, data being the batch or the job
     * as the REST API shows it now; empty when it no longer exists.
     */
    Optional<String> render(DueDelivery delivery) {
        Optional<?> data = delivery.eventType().startsWith("job.")
                ? jobs.getById(delivery.subject(), null).map(row -> JobResource.of(row, shownHeaders(row.headers())))
                : batches.getById(delivery.subject());
        return data.map(d -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("type", delivery.eventType());
            body.put("timestamp", delivery.eventCreatedAt());
            body.put("data", d);
            return json.writeValueAsString(body);
        });
    }

    /** A job's headers as the API shows them: secret values replaced. */
    private Map<String, String> shownHeaders(String headersJson) {
        return headersJson == null ? null : secrets.shown(Json.headers(headersJson));
    }

    private static String subjectKind(DueDelivery delivery) {
        return delivery.eventType().startsWith("job.") ? "job" : "batch";
    }

    private static String clip(String s) {
        return s.length() <= MAX_ERROR ? s : s.substring(0, MAX_ERROR);
    }

    @Override
    public void close() {
        closing = true;
        if (loop != null) {
            loop.interrupt();
        }
        senders.shutdownNow();
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}
