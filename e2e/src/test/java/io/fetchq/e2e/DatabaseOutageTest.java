package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.ChaosServer;
import io.fetchq.embedded.EmbeddedDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database outage longer than the lease, while every job is being fetched: the built
 * API and two worker jars over their own embedded PostgreSQL, which is stopped mid-fetch and started
 * again once every lease has been expired for two leases and every page has been answered. No live
 * worker's result may be thrown away: each job has one attempt only, so a rescue of a
 * lease that expired during the outage would end it {@code failed / lease_expired}, its result then
 * fenced out. Every job must end {@code completed 200}, each page requested once.
 */
class DatabaseOutageTest {

    private static final int WORKERS = 2;
    private static final int JOBS_PER_WORKER = 72;
    private static final int JOBS = WORKERS * JOBS_PER_WORKER;
    private static final Duration LEASE = Duration.ofSeconds(5);
    /** The page takes this long: the database goes down while every job waits for its answer. */
    private static final int PAGE_MS = 4000;

    @TempDir
    Path work;

    private final Jars jars = new Jars();
    private EmbeddedDatabase database;
    private ChaosServer site;

    @AfterEach
    void stopEverything() throws Exception {
        jars.close();
        if (site != null) {
            site.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void anOutageLongerThanTheLeaseThrowsAwayNoResult() throws Exception {
        int pgPort = Net.freePort();
        database = EmbeddedDatabase.start(work.resolve("pg"), pgPort);
        String jdbcUrl = database.jdbcUrl();
        site = new ChaosServer();
        int apiPort = Net.freePort();
        jars.start("outage-api", Jars.API, List.of("--spring.datasource.url=" + jdbcUrl, "--server.port=" + apiPort,
                "--fetchq.worker.enabled=false", "--fetchq.security.allow-anonymous=true",
                "--fetchq.fetch.allow-private-networks=true"));
        String api = "http://127.0.0.1:" + apiPort;
        awaitUntil("API up", Duration.ofSeconds(90), () -> Net.httpStatus(api + "/actuator/health") == 200);
        for (int w = 1; w <= WORKERS; w++) {
            jars.start("outage-w" + w, Jars.WORKER, List.of("--spring.datasource.url=" + jdbcUrl, "--server.port=0",
                    "--fetchq.fetch.allow-private-networks=true", "--fetchq.worker.id=outage-w" + w,
                    "--fetchq.worker.lease=" + LEASE.toMillis() + "ms",
                    "--fetchq.worker.max-in-flight=" + JOBS_PER_WORKER,
                    "--fetchq.worker.host-limits[127.0.0.1]=" + JOBS,
                    "--fetchq.worker.host-buffer-percent=0"));
        }
        awaitUntil("workers up", Duration.ofSeconds(90),
                () -> count(jdbcUrl, "SELECT count(*) FROM fetchq.workers WHERE state = 'running'") == WORKERS);

        StringBuilder urls = new StringBuilder();
        for (int i = 0; i < JOBS; i++) {
            urls.append(site.url("/slow/" + PAGE_MS + "/" + i)).append('\n');
        }
        HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(api + "/api/v1/batches?max_attempts=1"))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(urls.toString())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);

        // Every job claimed and its request sent: then the database goes away, until every lease has
        // been expired for two leases (any rescuer would take them all; about 15 s in all) and every
        // page has been answered (every result waits to be written).
        awaitUntil("every job being fetched", Duration.ofSeconds(30),
                () -> site.hits.size() == JOBS
                        && count(jdbcUrl, "SELECT count(*) FROM fetchq.queue WHERE state = 'running'") == JOBS);
        long leasesEndMs = count(jdbcUrl, "SELECT (extract(epoch FROM max(lease_expires_at)) * 1000)::bigint"
                + " FROM fetchq.queue");
        database.close();
        awaitUntil("every lease expired two leases ago and every page answered", Duration.ofSeconds(60),
                () -> System.currentTimeMillis() > leasesEndMs + 2 * LEASE.toMillis() && site.active() == 0);
        database = EmbeddedDatabase.start(work.resolve("pg"), pgPort);

        awaitUntil("every job final", Duration.ofSeconds(90),
                () -> count(jdbcUrl, "SELECT count(*) FROM fetchq.job_results WHERE state IN ('queued', 'running')") == 0);
        assertThat(count(jdbcUrl, "SELECT count(*) FROM fetchq.job_results WHERE state = 'completed' AND status_code = 200"))
                .as("jobs completed 200 (failed: %s)", failures(jdbcUrl)).isEqualTo(JOBS);
        assertThat(count(jdbcUrl, "SELECT count(*) FROM fetchq.attempts WHERE error_kind = 'lease_expired'")).isZero();
        assertThat(site.hits.values().stream().mapToInt(AtomicInteger::get).max().orElse(0))
                .as("requests for one page").isEqualTo(1);
        assertThat(site.hits).hasSize(JOBS);
    }

    private static List<String> failures(String jdbcUrl) {
        List<String> kinds = new ArrayList<>();
        try (var c = java.sql.DriverManager.getConnection(jdbcUrl);
                var rs = c.createStatement().executeQuery("SELECT state || '/' || COALESCE(error_kind, '-') || ': ' || count(*)"
                        + " FROM fetchq.job_results GROUP BY state, error_kind")) {
            while (rs.next()) {
                kinds.add(rs.getString(1));
            }
        } catch (java.sql.SQLException e) {
            kinds.add(e.toString());
        }
        return kinds;
    }

    private static long count(String jdbcUrl, String sql) {
        return Net.count(jdbcUrl, sql);
    }

    private static void awaitUntil(String what, Duration timeout, BooleanSupplier condition) {
        Awaitility.await(what).atMost(timeout).pollInterval(Duration.ofMillis(50)).until(condition::getAsBoolean);
    }
}
