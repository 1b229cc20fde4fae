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
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One schedule, every second, with four worker jars and two API jars all running schedules (none
 * is a leader), and one API killed with SIGKILL midway: every nominal time from the first to the
 * last gets exactly one batch, and every run's pages are fetched.
 */
class ScheduleFleetTest {

    private static final int WORKERS = 4;
    private static final int RUNS = 15;

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
    void fourWorkersAndTwoApisMakeEachRunOnce() throws Exception {
        AtomicInteger fetched = new AtomicInteger();
        site = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        site.createContext("/", exchange -> {
            fetched.incrementAndGet();
            byte[] body = "<title>watched</title>".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        site.start();
        String db = TestDatabase.newDatabase();
        String api = jars.startApi("schedule-api-1", db);
        Process secondApi = null;
        List<Process> workers = new ArrayList<>();
        for (int w = 1; w <= WORKERS; w++) {
            workers.add(jars.start("schedule-w" + w, Jars.WORKER, List.of("--spring.datasource.url=" + db,
                    "--server.port=0", "--fetchq.worker.id=schedule-w" + w, "--fetchq.fetch.allow-private-networks=true",
                    "--fetchq.schedules.poll-interval=200ms")));
        }
        String api2 = jars.startApi("schedule-api-2", db, "--fetchq.schedules.poll-interval=200ms");
        Awaitility.await("workers up").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.workers WHERE state = 'running'") == WORKERS);
        secondApi = jars.processes().getLast();

        String base = "http://127.0.0.1:" + site.getAddress().getPort();
        HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(api + "/api/v1/schedules"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"fleet\", \"every\": \"PT1S\", \"catch_up\": \"all\","
                        + " \"urls\": [\"" + base + "/a\", \"" + base + "/b\"]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = Net.field(created.body(), "id");

        Awaitility.await("half the runs").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.batch WHERE schedule_id = " + id) >= RUNS / 2);
        secondApi.destroyForcibly().waitFor();
        Awaitility.await("all the runs").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.batch WHERE schedule_id = " + id) >= RUNS);
        HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(api + "/api/v1/schedules/" + id + "/pause"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());

        long runs = Net.count(db, "SELECT count(*) FROM fetchq.batch WHERE schedule_id = " + id);
        assertThat(Net.count(db, "SELECT count(DISTINCT nominal_time) FROM fetchq.batch WHERE schedule_id = " + id))
                .as("one batch per nominal time").isEqualTo(runs);
        assertThat(Net.count(db, """
                SELECT count(*) FROM (
                    SELECT nominal_time - lag(nominal_time) OVER (ORDER BY nominal_time) AS gap
                    FROM fetchq.batch WHERE schedule_id = %s) g
                WHERE gap <> interval '1 second'""".formatted(id)))
                .as("no nominal time missed or repeated between the first and the last").isZero();
        Awaitility.await("every run fetched").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.count(db, "SELECT count(*) FROM fetchq.job j JOIN fetchq.batch b ON b.id = j.batch_id"
                        + " WHERE b.schedule_id = " + id + " AND j.state = 'completed'") == 2 * runs);
        assertThat(fetched.get()).as("requests the site saw").isGreaterThanOrEqualTo((int) (2 * runs));
        assertThat(api2).isNotBlank();
        assertThat(workers).allMatch(Process::isAlive);
    }
}
