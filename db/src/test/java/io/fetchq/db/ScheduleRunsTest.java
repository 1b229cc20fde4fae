package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.fetchq.db.ScheduleQueries.CatchUp;
import io.fetchq.db.ScheduleQueries.NewSchedule;
import io.fetchq.db.ScheduleQueries.Run;
import io.fetchq.db.ScheduleQueries.ScheduleRow;
import io.fetchq.db.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Schedules' runs against PostgreSQL, with the clock moved by the test. */
class ScheduleRunsTest extends SqlTestBase {

    private static final Duration LATE_AFTER = Duration.ofMinutes(1);
    private static final ScheduleQueries schedules = new ScheduleQueries(sql, jdbc, tx);

    private static Instant at(String offsetDateTime) {
        return OffsetDateTime.parse(offsetDateTime).toInstant();
    }

    private static ScheduleRow create(String cron, String every, String zone, CatchUp catchUp, Instant now, String... urls) {
        List<NewJob> jobs = new ArrayList<>();
        for (String url : urls) {
            jobs.add(aJob(url).build());
        }
        return schedules.create(Tenants.DEFAULT, new NewSchedule("check", cron, every, zone, catchUp, false, jobs), now);
    }

    /** Nominal times of the schedule's batches, in order. */
    private static List<Instant> runTimes(long scheduleId) {
        return sql.sql("SELECT nominal_time FROM fetchq.batch WHERE schedule_id = :id ORDER BY nominal_time")
                .param("id", scheduleId)
                .query((rs, n) -> rs.getObject(1, OffsetDateTime.class).toInstant()).list();
    }

    @Test
    void aRunIsABatchOfTheSchedulesJobsAndTheScheduleMovesOn() {
        Instant t0 = at("2026-06-01T10:00:00Z");
        ScheduleRow s = create(null, "PT15M", "UTC", CatchUp.SKIP, t0, "https://a.example/1", "https://b.example/2");
        assertThat(s.nextRunAt().toInstant()).isEqualTo(t0);

        List<Run> runs = schedules.runDue(t0.plusSeconds(2), 10, LATE_AFTER).runs();
        assertThat(runs).extracting(Run::nominalTime).containsExactly(t0);
        long batch = runs.getFirst().batchId();
        assertThat(sql.sql("SELECT url FROM fetchq.job WHERE batch_id = :b ORDER BY id").param("b", batch)
                .query(String.class).list()).containsExactly("https://a.example/1", "https://b.example/2");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.queue WHERE batch_id = :b AND state = 'queued'").param("b", batch)
                .query(Long.class).single()).isEqualTo(2);
        assertThat(sql.sql("SELECT total FROM fetchq.batch_progress WHERE batch_id = :b").param("b", batch)
                .query(Integer.class).single()).isEqualTo(2);

        ScheduleRow after = schedules.find(Tenants.DEFAULT, s.id()).orElseThrow();
        assertThat(after.nextRunAt().toInstant()).isEqualTo(t0.plus(Duration.ofMinutes(15)));
        assertThat(after.lastRunAt().toInstant()).isEqualTo(t0);
        assertThat(after.lastBatchId()).isEqualTo(batch);
        // Nothing more is due until the next time.
        assertThat(schedules.runDue(t0.plus(Duration.ofMinutes(14)), 10, LATE_AFTER).runs()).isEmpty();
        assertThat(sql.sql("SELECT schedule_id, every, catch_up, next_run_at FROM fetchq.schedules").query().listOfRows())
                .singleElement().satisfies(row -> assertThat(row).containsEntry("every", "PT15M").containsEntry("catch_up", "skip"));
    }

    @Test
    void aScheduleAcrossTheChangesToAndFromSummerTimeRunsOncePerDay() {
        ScheduleRow s = create("30 2 * * *", null, "Europe/Berlin", CatchUp.SKIP, at("2026-03-27T12:00:00Z"), "https://a.example/");
        // The clock of the processes that run schedules, moved a quarter of an hour at a time.
        for (Instant now = at("2026-03-27T12:00:00Z"); now.isBefore(at("2026-03-31T00:00:00Z")); now = now.plus(Duration.ofMinutes(15))) {
            schedules.runDue(now, 10, LATE_AFTER);
        }
        assertThat(runTimes(s.id())).containsExactly(
                at("2026-03-28T02:30:00+01:00"), at("2026-03-29T03:30:00+02:00"), at("2026-03-30T02:30:00+02:00"));

        ScheduleRow autumn = create("30 2 * * *", null, "Europe/Berlin", CatchUp.SKIP, at("2026-10-24T12:00:00Z"), "https://a.example/");
        for (Instant now = at("2026-10-24T12:00:00Z"); now.isBefore(at("2026-10-27T00:00:00Z")); now = now.plus(Duration.ofMinutes(15))) {
            schedules.runDue(now, 10, LATE_AFTER);
        }
        assertThat(runTimes(autumn.id())).containsExactly(at("2026-10-25T02:30:00+02:00"), at("2026-10-26T02:30:00+01:00"));
    }

    @Test
    void aTwoHourOutageIsMadeUpAsEachScheduleSays() {
        Instant t0 = at("2026-06-01T10:00:00Z");
        ScheduleRow skip = create(null, "PT15M", "UTC", CatchUp.SKIP, t0, "https://a.example/");
        ScheduleRow one = create(null, "PT15M", "UTC", CatchUp.ONE, t0, "https://a.example/");
        ScheduleRow all = create(null, "PT15M", "UTC", CatchUp.ALL, t0, "https://a.example/");
        assertThat(schedules.runDue(t0, 10, LATE_AFTER).runs()).hasSize(3);

        // Nothing ran schedules from 10:00 to 12:05: the runs of 10:15 to 12:00 were missed.
        Instant back = at("2026-06-01T12:05:00Z");
        schedules.runDue(back, 10, LATE_AFTER);
        assertThat(runTimes(skip.id())).containsExactly(t0);
        assertThat(runTimes(one.id())).containsExactly(t0, at("2026-06-01T12:00:00Z"));
        List<Instant> expected = new ArrayList<>();
        for (Instant t = t0; !t.isAfter(at("2026-06-01T12:00:00Z")); t = t.plus(Duration.ofMinutes(15))) {
            expected.add(t);
        }
        assertThat(runTimes(all.id())).containsExactlyElementsOf(expected).hasSize(9);
        for (ScheduleRow s : List.of(skip, one, all)) {
            assertThat(schedules.find(null, s.id()).orElseThrow().nextRunAt().toInstant()).isEqualTo(at("2026-06-01T12:15:00Z"));
        }

        // A run only a little late is not missed: every schedule makes it.
        schedules.runDue(at("2026-06-01T12:15:30Z"), 10, LATE_AFTER);
        assertThat(runTimes(skip.id())).containsExactly(t0, at("2026-06-01T12:15:00Z"));
    }

    @Test
    void catchUpAllMakesUpAtMostTheLatestHundredRuns() {
        Instant t0 = at("2026-06-01T00:00:00Z");
        ScheduleRow all = create(null, "PT1M", "UTC", CatchUp.ALL, t0, "https://a.example/");
        schedules.runDue(t0.plus(Duration.ofHours(5)), 10, LATE_AFTER);
        List<Instant> times = runTimes(all.id());
        assertThat(times).hasSize(ScheduleQueries.MOST_CATCH_UP_RUNS);
        assertThat(times.getLast()).isEqualTo(t0.plus(Duration.ofHours(5)));
        assertThat(times.getFirst()).isEqualTo(t0.plus(Duration.ofHours(5)).minus(Duration.ofMinutes(99)));
    }

    @Test
    void aPausedScheduleSkipsWhatItMissesAndGoesOnFromItsResume() {
        Instant t0 = at("2026-06-01T10:00:00Z");
        ScheduleRow s = create(null, "PT10M", "UTC", CatchUp.ALL, t0, "https://a.example/");
        schedules.runDue(t0, 10, LATE_AFTER);
        schedules.setPaused(Tenants.DEFAULT, s.id(), true, t0.plusSeconds(60));
        assertThat(schedules.runDue(t0.plus(Duration.ofHours(1)), 10, LATE_AFTER).runs()).isEmpty();
        ScheduleRow resumed = schedules.setPaused(Tenants.DEFAULT, s.id(), false, t0.plus(Duration.ofMinutes(61))).orElseThrow();
        assertThat(resumed.nextRunAt().toInstant()).isEqualTo(t0.plus(Duration.ofMinutes(70)));
        schedules.runDue(t0.plus(Duration.ofMinutes(70)), 10, LATE_AFTER);
        assertThat(runTimes(s.id())).containsExactly(t0, t0.plus(Duration.ofMinutes(70)));
    }

    @Test
    void aPassStopsAtItsJobBudgetAndTheNextGoesOnWhereItStopped() {
        Instant t0 = at("2026-06-01T00:00:00Z");
        ScheduleRow s = create(null, "PT1M", "UTC", CatchUp.ALL, t0, "https://a.example/1", "https://a.example/2",
                "https://a.example/3");
        Instant back = t0.plus(Duration.ofMinutes(9));
        // Ten runs due (0 to 9 minutes), three jobs each, at most 20 jobs a pass: six runs, then four.
        ScheduleQueries.Pass first = schedules.runDue(back, 10, LATE_AFTER, 20);
        assertThat(first.runs()).hasSize(6);
        assertThat(first.cut()).isTrue();
        assertThat(first.more(10)).isTrue();
        assertThat(schedules.find(null, s.id()).orElseThrow().nextRunAt().toInstant()).isEqualTo(t0.plus(Duration.ofMinutes(6)));
        ScheduleQueries.Pass second = schedules.runDue(back, 10, LATE_AFTER, 20);
        assertThat(second.runs()).hasSize(4);
        assertThat(second.more(10)).isFalse();
        assertThat(runTimes(s.id())).hasSize(10).first().isEqualTo(t0);
        assertThat(schedules.find(null, s.id()).orElseThrow().nextRunAt().toInstant()).isEqualTo(back.plus(Duration.ofMinutes(1)));
    }

    @Test
    void aScheduleWhoseTimesCannotBeComputedIsPausedAndTheOthersRun() {
        Instant t0 = at("2026-06-01T10:00:00Z");
        ScheduleRow broken = create("0 * * * *", null, "UTC", CatchUp.SKIP, t0, "https://a.example/");
        ScheduleRow fine = create(null, "PT1M", "UTC", CatchUp.SKIP, t0, "https://b.example/");
        sql.sql("UPDATE fetchq.schedule SET time_zone = 'Nowhere/Atlantis', next_run_at = :t WHERE id = :id")
                .param("t", OffsetDateTime.ofInstant(t0, java.time.ZoneOffset.UTC)).param("id", broken.id()).update();
        assertThat(schedules.runDue(t0.plusSeconds(1), 10, LATE_AFTER).runs()).extracting(Run::scheduleId)
                .containsExactly(fine.id());
        assertThat(schedules.find(null, broken.id()).orElseThrow().paused()).isTrue();
    }

    @Test
    void aRunNowAtAScheduledTimeStillMakesItsOwnBatchAndIsTheLastRun() {
        Instant t0 = at("2026-06-01T10:00:00Z");
        ScheduleRow s = create(null, "PT1M", "UTC", CatchUp.SKIP, t0, "https://a.example/");
        Run scheduled = schedules.runDue(t0, 10, LATE_AFTER).runs().getFirst();
        Run manual = schedules.runNow(Tenants.DEFAULT, s.id(), t0).orElseThrow();
        assertThat(manual.batchId()).isNotEqualTo(scheduled.batchId());
        assertThat(manual.nominalTime()).isAfter(t0);
        ScheduleRow after = schedules.find(null, s.id()).orElseThrow();
        assertThat(after.lastBatchId()).isEqualTo(manual.batchId());
        assertThat(schedules.runNow("another-tenant", s.id(), t0)).isEmpty();
    }

    /**
     * Six processes (four workers and two API replicas, each with a connection pool of its own) run
     * schedules at once while the clock moves a minute at a time: each nominal time gets exactly
     * one batch, and every batch its jobs.
     */
    @Test
    void racingProcessesMakeOneBatchPerNominalTime() throws Exception {
        Instant t0 = at("2026-06-01T10:00:00Z");
        ScheduleRow s = create(null, "PT1M", "UTC", CatchUp.ALL, t0, "https://a.example/1", "https://a.example/2");
        AtomicReference<Instant> clock = new AtomicReference<>(t0);
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Run> made = new ConcurrentLinkedQueue<>();
        List<HikariDataSource> pools = new ArrayList<>();
        ExecutorService processes = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int p = 0; p < 6; p++) {
                HikariDataSource pool = new HikariDataSource();
                pool.setJdbcUrl(TestDatabase.sharedUrl());
                pool.setMaximumPoolSize(2);
                pools.add(pool);
                JdbcTemplate template = new JdbcTemplate(pool);
                ScheduleQueries own = new ScheduleQueries(JdbcClient.create(pool), template,
                        new TransactionTemplate(new DataSourceTransactionManager(pool)));
                running.add(processes.submit(() -> {
                    while (!stop.get()) {
                        made.addAll(own.runDue(clock.get(), 10, LATE_AFTER).runs());
                    }
                    return null;
                }));
            }
            int minutes = 30;
            for (int m = 1; m <= minutes; m++) {
                Instant now = t0.plus(Duration.ofMinutes(m));
                clock.set(now);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!runTimes(s.id()).contains(now)) {
                    assertThat(System.nanoTime()).as("run of %s made", now).isLessThan(deadline);
                    Thread.onSpinWait();
                }
            }
            stop.set(true);
            for (Future<?> f : running) {
                f.get();
            }
            List<Instant> expected = new ArrayList<>();
            for (int m = 0; m <= minutes; m++) {
                expected.add(t0.plus(Duration.ofMinutes(m)));
            }
            assertThat(runTimes(s.id())).containsExactlyElementsOf(expected);
            assertThat(made).extracting(Run::nominalTime).containsExactlyInAnyOrderElementsOf(expected);
            Map<String, Object> jobs = sql.sql("""
                    SELECT count(*) AS jobs, count(DISTINCT j.batch_id) AS batches
                    FROM fetchq.job j JOIN fetchq.batch b ON b.id = j.batch_id WHERE b.schedule_id = :id""")
                    .param("id", s.id()).query().singleRow();
            assertThat(((Number) jobs.get("jobs")).longValue()).isEqualTo(2L * expected.size());
            assertThat(((Number) jobs.get("batches")).longValue()).isEqualTo(expected.size());
        } finally {
            stop.set(true);
            processes.shutdownNow();
            pools.forEach(HikariDataSource::close);
        }
    }
}
