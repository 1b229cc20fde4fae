package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill anything, lose nothing: the built API and worker jars as real processes over their own
 * embedded PostgreSQL, 5,000 jobs, and while they run: a worker killed with SIGKILL (and another
 * started), a worker frozen with SIGSTOP past its lease and thawed, a worker stopped with SIGTERM,
 * and PostgreSQL restarted. Then the database must show every job final exactly once within its
 * budget, and the target server must have seen no job more often than its budget allows.
 */
class CrashSafetyTest {

    private static final int JOBS = 5_000;
    private static final int MAX_ATTEMPTS = 3;
    private static final Duration LEASE = Duration.ofSeconds(3);

    @TempDir
    Path work;

    private final Jars jars = new Jars();
    private EmbeddedDatabase database;
    private TargetServer target;
    private String jdbcUrl;

    @AfterEach
    void stopEverything() {
        jars.close();
        if (target != null) {
            target.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void noJobIsLostDuplicatedOrOverAttemptedWhateverIsKilled() throws Exception {
        int pgPort = Net.freePort();
        database = EmbeddedDatabase.start(work.resolve("pg"), pgPort);
        jdbcUrl = "jdbc:postgresql://localhost:" + pgPort + "/postgres?user=postgres";
        target = new TargetServer();
        int apiPort = Net.freePort();
        start("api", Jars.API, "--server.port=" + apiPort,
                "--fetchq.worker.enabled=false", "--fetchq.security.allow-anonymous=true");
        awaitUntil("API up", Duration.ofSeconds(90), () -> Net.httpStatus("http://127.0.0.1:" + apiPort + "/actuator/health") == 200);
        Process w1 = startWorker("w1");
        Process w2 = startWorker("w2");
        Process w3 = startWorker("w3");

        StringBuilder urls = new StringBuilder();
        for (int i = 0; i < JOBS; i++) {
            String kind = i % 10 < 3 ? "slow" : i % 10 == 3 ? "flaky" : "ok";
            urls.append(target.base()).append('/').append(kind).append('/').append(i).append('\n');
        }
        HttpResponse<String> submitted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + apiPort + "/api/v1/batches?max_attempts=" + MAX_ATTEMPTS))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(urls.toString())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);

        // SIGKILL a worker that holds jobs, and start a new one.
        awaitUntil("w1 holds jobs", Duration.ofSeconds(60), () -> held("w1") > 0);
        w1.destroyForcibly();
        assertThat(w1.waitFor(10, TimeUnit.SECONDS)).isTrue();
        startWorker("w4");

        // SIGSTOP a worker past its lease: others rescue its jobs; thawed, its writes must not count.
        awaitUntil("w2 holds jobs", Duration.ofSeconds(60), () -> held("w2") > 0);
        Jars.signal(w2, "STOP");
        awaitUntil("w2's jobs rescued", Duration.ofSeconds(60), () -> held("w2") == 0);
        Jars.signal(w2, "CONT");

        // SIGTERM a worker mid-fetch: it hands its jobs back and exits cleanly.
        awaitUntil("w3 holds jobs", Duration.ofSeconds(60), () -> held("w3") > 0);
        w3.destroy();
        assertThat(w3.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(w3.exitValue()).as("w3 exit code after SIGTERM").isZero();
        // Handed back, not left to expire: nothing of w3's is running, and for longer than a lease
        // and a rescue pass, no attempt of it is recorded as lost.
        assertThat(held("w3")).as("jobs w3 still holds after its graceful stop").isZero();
        Awaitility.await("no lost attempt of w3 for two leases").during(LEASE.multipliedBy(2))
                .atMost(LEASE.multipliedBy(4)).pollInterval(Duration.ofMillis(200))
                .until(() -> count("SELECT count(*) FROM fetchq.attempts WHERE worker_id = 'w3'"
                        + " AND error_kind = 'lease_expired'") == 0);

        // Restart PostgreSQL under everyone, while jobs are still in flight.
        assertThat(count("SELECT count(*) FROM fetchq.job_results WHERE state IN ('queued', 'running')"))
                .as("unfinished jobs when PostgreSQL restarts").isPositive();
        database.close();
        database = EmbeddedDatabase.start(work.resolve("pg"), pgPort);

        awaitUntil("every job final", Duration.ofMinutes(4),
                () -> count("SELECT count(*) FROM fetchq.job_results WHERE state IN ('queued', 'running')") == 0);

        assertThat(count("SELECT count(*) FROM fetchq.job_results")).isEqualTo(JOBS);
        assertThat(count("SELECT count(*) FROM fetchq.job_results WHERE state = 'completed'"))
                .as("completed jobs").isEqualTo(JOBS);
        assertThat(count("SELECT count(*) FROM fetchq.job_results WHERE attempts > max_attempts")).isZero();
        assertThat(count("""
                SELECT count(*) FROM fetchq.job_results r
                WHERE r.attempts <> (SELECT count(*) FROM fetchq.attempts a WHERE a.job_id = r.job_id)""")).isZero();
        assertThat(count("SELECT count(*) FROM fetchq.queue")).isZero();
        assertThat(target.maxHits()).as("most requests the server saw for one job").isLessThanOrEqualTo(MAX_ATTEMPTS);
        assertThat(target.hits).hasSize(JOBS);
        Map<String, Object> summary = Map.of(
                "lease_expired", count("SELECT count(*) FROM fetchq.attempts WHERE error_kind = 'lease_expired'"),
                "attempts", count("SELECT count(*) FROM fetchq.attempts"));
        System.out.println("crash test summary: " + summary);
    }

    private Process startWorker(String id) throws IOException {
        return start(id, Jars.WORKER, "--fetchq.worker.id=" + id, "--server.port=0",
                "--fetchq.worker.lease=" + LEASE.toMillis() + "ms", "--fetchq.worker.shutdown-grace=5s",
                "--fetchq.worker.max-in-flight=64", "--fetchq.worker.host-limits[127.0.0.1]=64",
                "--fetchq.worker.retry-base=200ms");
    }

    private Process start(String name, Path jar, String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of("--spring.datasource.url=" + jdbcUrl,
                "--fetchq.fetch.allow-private-networks=true"));
        all.addAll(List.of(args));
        return jars.start(name, jar, all);
    }

    private long held(String worker) {
        return count("SELECT count(*) FROM fetchq.queue WHERE state = 'running' AND worker_id = '" + worker + "'");
    }

    private long count(String sql) {
        return Net.count(jdbcUrl, sql);
    }

    private static void awaitUntil(String what, Duration timeout, BooleanSupplier condition) {
        Awaitility.await(what).atMost(timeout).pollInterval(Duration.ofMillis(50)).until(condition::getAsBoolean);
    }
}
