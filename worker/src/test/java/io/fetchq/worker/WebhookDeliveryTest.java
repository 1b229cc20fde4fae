package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fetchq.db.BatchQueries;
import io.fetchq.db.WebhookQueries;
import io.fetchq.db.WebhookRow;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.webhook.WebhookProperties;
import io.fetchq.worker.webhook.WebhookSender;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Webhook deliveries from a worker to a loopback receiver: signed as Standard Webhooks says
 * (checked here with an HMAC of our own), sent again after a failure with the same
 * {@code webhook-id}, and an endpoint that answers {@code 410 Gone} disabled.
 */
class WebhookDeliveryTest extends WorkerTestBase {

    private static final Duration WAIT = Duration.ofSeconds(30);

    /** What the receiver got: headers (lower-case names) and body. */
    record Received(Map<String, String> headers, String body) {
    }

    private HttpServer receiver;
    private final LinkedBlockingQueue<Integer> answers = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
    private WebhookQueries webhooks;
    private WebhookSender sender;

    @BeforeEach
    void startReceiver() throws Exception {
        sql.sql("TRUNCATE fetchq.webhook, fetchq.event CASCADE").update();
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", exchange -> {
            Map<String, String> headers = new java.util.TreeMap<>();
            exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(java.util.Locale.ROOT),
                    values.getFirst()));
            received.add(new Received(headers, new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            Integer status = answers.poll();
            exchange.sendResponseHeaders(status == null ? 200 : status, -1);
            exchange.close();
        });
        receiver.start();
        webhooks = new WebhookQueries(sql);
    }

    @AfterEach
    void stopReceiver() {
        if (sender != null) {
            sender.close();
        }
        receiver.stop(0);
    }

    private void startSender() {
        WebhookProperties properties = new Binder(new MapConfigurationPropertySource(Map.of(
                "fetchq.webhooks.poll-interval", "50ms"))).bindOrCreate("fetchq.webhooks", WebhookProperties.class);
        var fetch = fetchSettings();
        sender = new WebhookSender(properties, webhooks, jobs,
                new BatchQueries(sql, new TransactionTemplate(new DataSourceTransactionManager(dataSource))),
                new UrlPolicy(fetch.allowPrivateNetworks(), fetch.allowedNetworks()), fetch, TEST_DNS, Clock.systemUTC(),
                WorkerMetrics.none(), "w-hooks", () -> { });
        sender.start();
    }

    private String hookUrl() {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
    }

    private static long count(String query) {
        return sql.sql(query).query(Long.class).single();
    }

    @Test
    void aFailedJobIsDeliveredSignedAndAFailedDeliveryIsSentAgainWithTheSameId() throws Exception {
        WebhookRow hook = webhooks.create("default", hookUrl(), List.of("job.failed"), "alerts");
        answers.add(500);
        startWorker(settings());
        startSender();
        long id = aJob(server.url("/status/503")).maxAttempts(1).submit();
        awaitFinal(id, WAIT);

        await("first attempt recorded", WAIT, () -> count("SELECT count(*) FROM fetchq.webhook_attempt") == 1);
        Map<String, Object> first = sql.sql("SELECT * FROM fetchq.webhook_deliveries").query().singleRow();
        assertThat(first).containsEntry("status_code", 500).containsEntry("attempt", 1).containsEntry("error", "HTTP 500");
        Instant tried = ((java.sql.Timestamp) first.get("created_at")).toInstant();
        Instant next = ((java.sql.Timestamp) first.get("next_attempt_at")).toInstant();
        assertThat(Duration.between(tried, next)).as("5 s ±10%%, from the attempt's start")
                .isBetween(Duration.ofMillis(4_400), Duration.ofMillis(5_600));

        // The retry's time made now instead of waiting for it.
        sql.sql("UPDATE fetchq.webhook_delivery SET next_attempt_at = now()").update();
        await("delivered", WAIT, () -> count("SELECT count(*) FROM fetchq.webhook_delivery WHERE state = 'delivered'") == 1);

        List<Received> requests = List.copyOf(received);
        assertThat(requests).hasSize(2);
        assertThat(requests.get(1).headers().get("webhook-id")).isEqualTo(requests.get(0).headers().get("webhook-id"))
                .startsWith("evt_");
        assertThat(requests.get(1).body()).as("the same bytes on every attempt").isEqualTo(requests.get(0).body());
        for (Received request : requests) {
            assertThat(signatureValid(hook.secret(), request)).as("signature of %s", request.headers()).isTrue();
            assertThat(signatureValid("whsec_" + Base64.getEncoder().encodeToString(new byte[32]), request)).isFalse();
        }
        JsonNode body = JsonMapper.builder().build().readTree(requests.get(0).body());
        assertThat(body.get("type").asString()).isEqualTo("job.failed");
        assertThat(body.get("timestamp").asString()).isNotBlank();
        assertThat(body.get("data").get("id").asLong()).isEqualTo(id);
        assertThat(body.get("data").get("state").asString()).isEqualTo("failed");
        assertThat(body.get("data").get("result").get("status_code").asInt()).isEqualTo(503);
        assertThat(body.get("data").get("max_attempts").asInt()).as("snake_case, as the REST API").isEqualTo(1);
        assertThat(sql.sql("SELECT attempt || ' ' || COALESCE(status_code::text, '-') || ' ' || (delivered_at IS NOT NULL)"
                + " FROM fetchq.webhook_deliveries ORDER BY attempt").query(String.class).list())
                .containsExactly("1 500 false", "2 200 true");
    }

    @Test
    void anEndpointThatAnswersGoneIsDisabledAndSentNothingMore() {
        WebhookRow hook = webhooks.create("default", hookUrl(), List.of("batch.completed"), null);
        answers.add(410);
        startWorker(settings());
        startSender();
        long batch = jobs.insertBatch(List.of(aJob(server.url("/page/a")).build())).id();
        await("batch done", WAIT, () -> batchDone(batch));
        await("endpoint disabled", WAIT, () -> webhooks.find(hook.id(), null).orElseThrow().disabled());
        assertThat(webhooks.find(hook.id(), null).orElseThrow().disabledReason()).contains("410");

        long second = jobs.insertBatch(List.of(aJob(server.url("/page/b")).build())).id();
        await("second batch done", WAIT, () -> batchDone(second));
        assertThat(count("SELECT count(*) FROM fetchq.webhook_delivery")).as("a disabled endpoint subscribes to nothing")
                .isEqualTo(1);
        assertThat(received).hasSize(1);
        assertThat(count("SELECT count(*) FROM fetchq.webhook_delivery WHERE state = 'failed'")).isEqualTo(1);
    }

    @Test
    void anEndpointThePolicyBlocksIsNeverDialled() {
        WebhookRow hook = webhooks.create("default", "http://10.0.0.7/hook", List.of("batch.completed"), null);
        startWorker(settings());
        startSender();
        long batch = jobs.insertBatch(List.of(aJob(server.url("/page/a")).build())).id();
        await("batch done", WAIT, () -> batchDone(batch));
        await("delivery given up", WAIT,
                () -> count("SELECT count(*) FROM fetchq.webhook_delivery WHERE state = 'failed'") == 1);
        assertThat(sql.sql("SELECT error FROM fetchq.webhook_deliveries WHERE webhook_id = :id").param("id", hook.id())
                .query(String.class).single()).startsWith("blocked: ");
    }

    /** Standard Webhooks' v1 signature, computed here independently of fetchq's own code. */
    private static boolean signatureValid(String secret, Received request) throws Exception {
        String id = request.headers().get("webhook-id");
        String timestamp = request.headers().get("webhook-timestamp");
        byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        String expected = "v1," + Base64.getEncoder().encodeToString(
                mac.doFinal((id + "." + timestamp + "." + request.body()).getBytes(StandardCharsets.UTF_8)));
        return List.of(request.headers().get("webhook-signature").split(" ")).contains(expected)
                && Math.abs(Instant.now().getEpochSecond() - Long.parseLong(timestamp)) < 300;
    }
}
