package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.fetchq.db.testing.ExplainingDataSource;
import io.fetchq.db.testing.TestDatabase;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The worker's claim, walk, promotion and lease renewal, run with {@code EXPLAIN (ANALYZE, BUFFERS)}
 * over a queue of 1,000,000 jobs not due yet (of a higher priority than the due ones, on the same
 * hosts, as a crawl's or a backoff-heavy workload's future jobs are) and 20,000 due ones: each reads
 * rows in proportion to what it claims or renews, never the future ones. The SQL is the real
 * code's, caught as it runs ({@link ExplainingDataSource}), its writes rolled back after planning.
 */
class ClaimPlansTest {

    private static final int FUTURE = 1_000_000;
    private static final int DUE = 20_000;
    private static final int HOSTS = 100;
    /** "actual time=0.010..0.020 rows=R loops=L": what one plan node produced. */
    private static final Pattern ACTUAL = Pattern.compile("actual time=[\\d.]+\\.\\.[\\d.]+ rows=(\\d+) loops=(\\d+)");
    private static final Pattern BUFFERS = Pattern.compile("Buffers: shared hit=(\\d+)(?: read=(\\d+))?");

    private static HikariDataSource pool;
    private static ExplainingDataSource explaining;
    private static QueueQueries queue;

    @BeforeAll
    static void queueWithAFarFuture() {
        String url = TestDatabase.newDatabase();
        MigrationsTest.flyway(url).migrate();
        pool = new HikariDataSource();
        pool.setJdbcUrl(url);
        pool.setMaximumPoolSize(2);
        JdbcClient setup = JdbcClient.create(pool);
        setup.sql("""
                INSERT INTO fetchq.job (id, url, host, max_attempts, timeout_ms, max_body_bytes, priority, run_at)
                SELECT g, 'https://h' || g % :hosts || '.example/' || g, 'h' || g % :hosts || '.example', 3, 60000, 1048576,
                       CASE WHEN g <= :future THEN 5 ELSE 0 END,
                       CASE WHEN g <= :future THEN now() + interval '1 day' + g * interval '1 millisecond'
                            ELSE now() - interval '1 minute' END
                FROM generate_series(1, :n) g""")
                .param("hosts", HOSTS).param("future", FUTURE).param("n", FUTURE + DUE).update();
        setup.sql("""
                INSERT INTO fetchq.queue (job_id, state, priority, run_at, host, attempt_limit)
                SELECT id, CASE WHEN run_at > now() THEN 'scheduled' ELSE 'queued' END, priority, run_at, host, 3
                FROM fetchq.job""").update();
        setup.sql("SELECT setval(pg_get_serial_sequence('fetchq.job', 'id'), :n)").param("n", FUTURE + DUE)
                .query().listOfRows();
        setup.sql("VACUUM ANALYZE").update();
        explaining = new ExplainingDataSource(pool, true);
        queue = new QueueQueries(new JdbcTemplate(explaining.dataSource()));
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    /**
     * Runs {@code work} and checks each statement it ran: no plan node produced more than
     * {@code mostRows} rows, and the statement touched at most {@code mostPages} pages.
     */
    private static void assertReadsAtMost(String what, long mostRows, long mostPages, Runnable work) {
        assertReadsAtMost(explaining, what, mostRows, mostPages, work);
    }

    private static void assertReadsAtMost(ExplainingDataSource explaining, String what, long mostRows, long mostPages,
            Runnable work) {
        explaining.take();
        work.run();
        List<ExplainingDataSource.Planned> planned = explaining.take();
        assertThat(planned).as("%s: statements run", what).isNotEmpty();
        for (ExplainingDataSource.Planned p : planned) {
            System.out.println("-- " + what + "\n" + p.plan());
            long most = 0;
            for (Matcher m = ACTUAL.matcher(p.plan()); m.find(); ) {
                most = Math.max(most, Long.parseLong(m.group(1)) * Long.parseLong(m.group(2)));
            }
            Matcher buffers = BUFFERS.matcher(p.plan());
            assertThat(buffers.find()).as("%s: buffers in the plan", what).isTrue();
            long pages = Long.parseLong(buffers.group(1)) + (buffers.group(2) == null ? 0 : Long.parseLong(buffers.group(2)));
            System.out.printf("%s: most rows from one node %d, pages %d%n", what, most, pages);
            assertThat(most).as("%s: rows from one plan node%n%s", what, p.plan()).isLessThanOrEqualTo(mostRows);
            assertThat(pages).as("%s: pages touched%n%s", what, p.plan()).isLessThanOrEqualTo(mostPages);
        }
    }

    @Test
    void aClaimReadsTheDueJobsItTakesNotTheFutureOnes() {
        assertReadsAtMost("claim of 100 from a window of 200", 400, 5_000,
                () -> assertThat(queue.claimDue("w1", 100, 200, 8, Map.of(), Duration.ofMinutes(5))).hasSize(100));
    }

    @Test
    void aWalkOverHostsAndAHostsClaimReadOneProbePerHost() {
        assertReadsAtMost("walk over 100 hosts", 2 * HOSTS, 3_000,
                () -> assertThat(queue.walkHosts("", HOSTS).hosts()).hasSize(HOSTS));
        Map<String, Integer> room = new HashMap<>();
        for (int h = 0; h < 20; h++) {
            room.put("h" + h + ".example", 4);
        }
        assertReadsAtMost("claim of 4 jobs from each of 20 hosts", 400, 3_000,
                () -> assertThat(queue.claimHosts("w1", room, Duration.ofMinutes(5))).hasSize(80));
    }

    /**
     * A refill of a few jobs of one of four hosts that make up the whole queue (the last of them
     * added, so with the highest ids): the planner cannot
     * see the room (a {@code LIMIT} per host from the parameters) and guesses a tenth of the host's
     * due jobs, thousands here; the claimed rows must still be looked up by key, not found by
     * reading the whole queue into a hash.
     */
    @Test
    void aRefillOfAHostWithALongBacklogReadsTheJobsItTakes() {
        String url = TestDatabase.newDatabase();
        MigrationsTest.flyway(url).migrate();
        try (HikariDataSource few = new HikariDataSource()) {
            few.setJdbcUrl(url);
            few.setMaximumPoolSize(2);
            JdbcClient setup = JdbcClient.create(few);
            setup.sql("""
                    INSERT INTO fetchq.job (url, host, max_attempts, timeout_ms, max_body_bytes, run_at)
                    SELECT 'https://h' || (g - 1) / 30000 || '.example/' || g, 'h' || (g - 1) / 30000 || '.example', 3,
                           60000, 1048576,
                           now() - interval '1 minute'
                    FROM generate_series(1, 120000) g""").update();
            setup.sql("""
                    INSERT INTO fetchq.queue (job_id, state, priority, run_at, host, attempt_limit)
                    SELECT id, 'queued', 0, run_at, host, 3 FROM fetchq.job""").update();
            setup.sql("VACUUM ANALYZE").update();
            ExplainingDataSource explained = new ExplainingDataSource(few, true);
            QueueQueries refills = new QueueQueries(new JdbcTemplate(explained.dataSource()));
            assertReadsAtMost(explained, "claim of 4 jobs of one of four hosts with 30,000 due each", 100, 500,
                    () -> assertThat(refills.claimHosts("w4", Map.of("h3.example", 4), Duration.ofMinutes(5))).hasSize(4));
        }
    }

    /**
     * A large batch lands in a queue whose statistics were taken while it was empty (a new
     * deployment; autovacuum has not analyzed it since, and is kept from doing so here): the claim
     * still reads its window from the head of {@code queue_due}, not every due row sorted.
     */
    @Test
    void aClaimOnStatisticsOfAnEmptyQueueReadsItsWindow() {
        String url = TestDatabase.newDatabase();
        MigrationsTest.flyway(url).migrate();
        try (HikariDataSource fresh = new HikariDataSource()) {
            fresh.setJdbcUrl(url);
            fresh.setMaximumPoolSize(2);
            JdbcClient setup = JdbcClient.create(fresh);
            setup.sql("ALTER TABLE fetchq.queue SET (autovacuum_enabled = false)").update();
            setup.sql("ALTER TABLE fetchq.job SET (autovacuum_enabled = false)").update();
            setup.sql("ANALYZE").update();
            setup.sql("""
                    INSERT INTO fetchq.job (url, host, max_attempts, timeout_ms, max_body_bytes, run_at)
                    SELECT 'https://h' || g % 4 || '.example/' || g, 'h' || g % 4 || '.example', 3, 60000, 1048576,
                           now() - interval '1 minute'
                    FROM generate_series(1, 100000) g""").update();
            setup.sql("""
                    INSERT INTO fetchq.queue (job_id, state, priority, run_at, host, attempt_limit)
                    SELECT id, 'queued', 0, run_at, host, 3 FROM fetchq.job""").update();
            ExplainingDataSource explained = new ExplainingDataSource(fresh, true);
            QueueQueries claims = new QueueQueries(new JdbcTemplate(explained.dataSource()));
            assertReadsAtMost(explained, "claim of 64 from a window of 256 of 100,000 unanalyzed", 1_000, 1_500,
                    () -> assertThat(claims.claimDue("w5", 64, 256, 16, Map.of(), Duration.ofMinutes(5))).hasSize(64));
        }
    }

    @Test
    void promotingDueJobsReadsOnlyThoseDue() {
        assertReadsAtMost("promotion with nothing due", 10, 100, () -> assertThat(queue.promoteDue(5000)).isZero());
    }

    @Test
    void aLeaseRenewalReadsTheRenewedRows() {
        List<Claim> claims = new QueueQueries(new JdbcTemplate(pool)).claimDue("w2", 100, 200, 8, Map.of(),
                Duration.ofMinutes(5)).stream().map(ClaimedJob::claim).toList();
        assertThat(claims).hasSize(100);
        assertReadsAtMost("renewal of 100 leases", 400, 2_000,
                () -> assertThat(queue.extendLeases(claims, Duration.ofMinutes(5))).isEmpty());
    }

    /**
     * With thousands of jobs running (other workers' claims, made after the statistics were taken,
     * as in a busy fleet), writing ten results reads those ten rows: the fence finds each claim by
     * its key, not by reading every running row; and each URL's state is looked up by its key among
     * the 20,000 URLs the tenant fetched before, not read from all of them.
     */
    @Test
    void aCompletionReadsItsOwnRowsNotEveryRunningOne() {
        JdbcClient.create(pool).sql("""
                INSERT INTO fetchq.url_state (tenant, url_key, body_sha256, job_id, fetched_at)
                SELECT 'default', sha256(convert_to('https://before.example/' || g, 'UTF8')), md5(g::text), g, now()
                FROM generate_series(1, 20000) g""").update();
        QueueQueries plain = new QueueQueries(new JdbcTemplate(pool));
        for (int i = 0; i < 5; i++) {
            assertThat(plain.claimDue("w-other", 1000, 2000, 1000, Map.of(), Duration.ofMinutes(5))).hasSize(1000);
        }
        List<ClaimedJob> mine = plain.claimDue("w3", 10, 20, 8, Map.of(), Duration.ofMinutes(5));
        assertThat(mine).hasSize(10);
        // Conditional jobs: their results read and write their URLs' state.
        JdbcClient.create(pool).sql("UPDATE fetchq.job SET conditional = true WHERE id IN (:ids)")
                .param("ids", mine.stream().map(ClaimedJob::jobId).toList()).update();
        assertReadsAtMost("completion of 10 jobs with 5,010 running", 100, 1_000,
                () -> assertThat(queue.completeMany(mine.stream().<Completion>map(SqlTestBase::completed).toList(), "w3"))
                        .hasSize(10));
    }
}
