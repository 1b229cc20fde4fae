package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fetchq.db.testing.TestDatabase;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Webhooks from worker jars: batches whose jobs two workers finish side by side each write exactly
 * one {@code batch.completed}, and a worker SIGKILLed while it delivers one leaves it to another
 * worker, which sends it again with the same {@code webhook-id} (at least once, never lost).
 */
class WebhookFleetTest {

    private static final int BATCHES = 12;
    private static final int JOBS = 20;

    private final Jars jars = new Jars();
    private HttpServer site;

    @AfterEach
    void stop() {
        jars.close();
        if (site != null) {
            site.stop(0);
        }
    }

    @Test
    void everyBatchCompletionIsWrittenOnceAndADeliveryCutByASigkillIsSentAgain() throws Exception {
        ConcurrentLinkedQueue<String> hookIds = new ConcurrentLinkedQueue<>();
        CountDownLatch firstDeliveryArrived = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<String> held = new java.util.concurrent.atomic.AtomicReference<>();
        site = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        site.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        site.createContext("/hook", exchange -> {
            String id = exchange.getRequestHeaders().getFirst("webhook-id");
            exchange.getRequestBody().readAllBytes();
            hookIds.add(id);
            if (held.compareAndSet(null, id)) {
                // The first delivery is held unanswered: its worker is killed while it waits.
                firstDeliveryArrived.countDown();
                try {
                    never.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        site.createContext("/page", exchange -> {
            byte[] body = "<title>p</title>".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        site.start();
        String base = "http://127.0.0.1:" + site.getAddress().getPort();
        String db = TestDatabase.newDatabase();
        String api = jars.startApi("webhook-api", db);
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> hook = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/webhooks"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"" + base + "/hook\", \"events\": [\"batch.completed\"]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(hook.statusCode()).as(hook.body()).isEqualTo(201);

        // Two workers fetch; only the first sends webhooks (so that it holds the delivery to be cut).
        Process sender = worker("webhook-w1", db, true);
        worker("webhook-w2", db, false);
        Awaitility.await("workers up").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.workers WHERE state = 'running'") == 2);
        for (int b = 0; b < BATCHES; b++) {
            List<String> urls = new ArrayList<>();
            for (int j = 0; j < JOBS; j++) {
                urls.add("\"" + base + "/page/" + b + "/" + j + "\"");
            }
            HttpResponse<String> batch = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/batches"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"urls\": [" + String.join(",", urls) + "]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(batch.statusCode()).as(batch.body()).isEqualTo(201);
        }

        assertThat(firstDeliveryArrived.await(60, TimeUnit.SECONDS)).as("a delivery reached the endpoint").isTrue();
        sender.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        String cut = held.get();
        worker("webhook-w3", db, true);

        Awaitility.await("every batch done").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.batch_progress WHERE done") == BATCHES);
        Awaitility.await("every completion delivered").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.webhook_delivery WHERE state = 'delivered'") == BATCHES);
        assertThat(Net.count(db, "SELECT count(*) FROM fetchq.event WHERE type = 'batch.completed'")).isEqualTo(BATCHES);
        assertThat(Net.count(db, "SELECT count(DISTINCT batch_id) FROM fetchq.event")).isEqualTo(BATCHES);
        assertThat(hookIds.stream().filter(cut::equals).count()).as("the cut delivery, sent again with its id").isEqualTo(2);
        assertThat(hookIds.stream().distinct().count()).isEqualTo(BATCHES);
        assertThat(Net.count(db, """
                SELECT count(*) FROM fetchq.webhook_deliveries
                WHERE attempt = 1 AND error LIKE 'no answer recorded%' AND event_id = """ + cut.substring(4))).isEqualTo(1);
        never.countDown();
    }

    private Process worker(String id, String db, boolean webhooks) throws java.io.IOException {
        return jars.start(id, Jars.WORKER, List.of("--spring.datasource.url=" + db, "--server.port=0",
                "--fetchq.worker.id=" + id, "--fetchq.fetch.allow-private-networks=true",
                "--fetchq.worker.poll-interval=100ms", "--fetchq.webhooks.enabled=" + webhooks,
                "--fetchq.webhooks.poll-interval=200ms", "--fetchq.webhooks.timeout=3s"));
    }
}
