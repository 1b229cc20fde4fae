package io.fetchq.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Schedules and their runs. A run is a batch of the schedule's jobs, keyed by (schedule, nominal
 * time): {@link #runDue} claims due schedules with {@code FOR UPDATE SKIP LOCKED}, creates their
 * runs and moves them on in one transaction, so any number of processes may call it at once and
 * each nominal time still runs once.
 *
 * <p>Times come from the caller's clock ({@code now}), so that tests can move it; the jobs of a
 * run are due at the database's {@code now()}.
 */
@Repository
public class ScheduleQueries {

    private static final Logger log = LoggerFactory.getLogger(ScheduleQueries.class);

    /** The most runs a schedule makes up for at once with {@code catch_up = all}. */
    public static final int MOST_CATCH_UP_RUNS = 100;

    /** What a schedule does about runs missed while nothing ran schedules. */
    public enum CatchUp {
        /** Missed runs are skipped; the schedule goes on at its next time. */
        SKIP,
        /** The missed runs are made up by one run, at the latest missed time. */
        ONE,
        /** Each missed run is made, at most {@link #MOST_CATCH_UP_RUNS} (the latest). */
        ALL;

        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static CatchUp of(String value) {
            for (CatchUp c : values()) {
                if (c.value().equals(value)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("catch_up must be one of skip, one, all: '" + value + "'");
        }
    }

    /** A schedule to create: exactly one of {@code cron} and {@code every}; jobs already validated. */
    public record NewSchedule(String name, String cron, String every, String timeZone, CatchUp catchUp, boolean paused,
            List<NewJob> jobs) {
    }

    /** A schedule as the view {@code fetchq.schedules} shows it, with its tenant and job count. */
    public record ScheduleRow(long id, String tenant, String name, String cron, String every, String timeZone,
            CatchUp catchUp, boolean paused, OffsetDateTime nextRunAt, OffsetDateTime lastRunAt, Long lastBatchId,
            int jobCount, OffsetDateTime createdAt) {

        Recurrence recurrence() {
            return ScheduleQueries.recurrence(cron, every, timeZone, createdAt.toInstant());
        }
    }

    /** A run created: its schedule, nominal time and batch. */
    public record Run(long scheduleId, Instant nominalTime, long batchId) {
    }

    private static final String COLUMNS = """
            id, tenant, name, cron, every, time_zone, catch_up, paused, next_run_at, last_run_at, last_batch_id,
            job_count, created_at""";

    /**
     * One run of a schedule as one statement: its batch (nothing if the schedule already has a run
     * at that nominal time), its jobs from the schedule's, and their queue rows.
     */
    private static final String RUN = """
            WITH b AS (
                INSERT INTO fetchq.batch (tenant, total, schedule_id, nominal_time)
                SELECT s.tenant, s.job_count, s.id, :nominal FROM fetchq.schedule s WHERE s.id = :schedule
                ON CONFLICT (schedule_id, nominal_time) WHERE schedule_id IS NOT NULL DO NOTHING
                RETURNING id, tenant
            ), j AS (
                INSERT INTO fetchq.job (tenant, batch_id, url, host, method, headers, body, priority, run_at,
                                        max_attempts, timeout_ms, max_body_bytes, store_body, follow_redirects,
                                        extract, metadata, conditional, robots)
                SELECT b.tenant, b.id, sj.url, sj.host, sj.method, sj.headers, sj.body, sj.priority, now(),
                       sj.max_attempts, sj.timeout_ms, sj.max_body_bytes, sj.store_body, sj.follow_redirects,
                       sj.extract, sj.metadata, sj.conditional, sj.robots
                FROM b CROSS JOIN fetchq.schedule_job sj
                WHERE sj.schedule_id = :schedule
                ORDER BY sj.position
                RETURNING id, batch_id, priority, run_at, host, max_attempts
            ), q AS (
                INSERT INTO fetchq.queue (job_id, batch_id, priority, run_at, host, attempt_limit, state)
                SELECT id, batch_id, priority, run_at, host, max_attempts, 'queued' FROM j
            )
            SELECT id FROM b""";

    private final JdbcClient jdbc;
    private final JdbcTemplate template;
    private final TransactionTemplate tx;
    private final Notifier workersNotifier;

    @Autowired
    public ScheduleQueries(JdbcClient jdbc, JdbcTemplate template, TransactionTemplate tx,
            @Qualifier(DbConfiguration.JOBS_NOTIFIER) Notifier workersNotifier) {
        this.jdbc = jdbc;
        this.template = template;
        this.tx = tx;
        this.workersNotifier = workersNotifier;
    }

    /** With "new jobs" notifications sent at once after each commit (tests, tools). */
    public ScheduleQueries(JdbcClient jdbc, JdbcTemplate template, TransactionTemplate tx) {
        this(jdbc, template, tx, new Notifier(template, JobQueries.NOTIFY_CHANNEL, Duration.ZERO));
    }

    /**
     * When a schedule runs.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static Recurrence recurrence(String cron, String every, String timeZone, Instant createdAt) {
        if ((cron == null) == (every == null)) {
            throw new IllegalArgumentException("a schedule needs exactly one of cron and every");
        }
        return cron != null ? Recurrence.cron(cron, timeZone) : Recurrence.every(every, timeZone, createdAt);
    }

    /**
     * Creates a schedule of {@code tenant} at {@code now}; its first run is the first time of its
     * recurrence from then on ({@code every}: {@code now} itself).
     *
     * @throws IllegalArgumentException when the recurrence is not valid or never comes
     */
    public ScheduleRow create(String tenant, NewSchedule schedule, Instant now) {
        if (schedule.jobs().isEmpty()) {
            throw new IllegalArgumentException("a schedule needs at least one job");
        }
        // As PostgreSQL keeps it: an every's grid starts at the created_at read back later.
        Instant created = now.truncatedTo(ChronoUnit.MICROS);
        Recurrence recurrence = recurrence(schedule.cron(), schedule.every(), schedule.timeZone(), created);
        Instant first = recurrence.next(created.minusNanos(1));
        if (first == null) {
            throw new IllegalArgumentException("cron '" + schedule.cron() + "' never matches a date");
        }
        String every = schedule.every() == null ? null : Duration.parse(schedule.every().trim()).toString();
        return tx.execute(status -> {
            long id = jdbc.sql("""
                    INSERT INTO fetchq.schedule (tenant, name, cron, every, time_zone, catch_up, paused, next_run_at,
                                                 job_count, created_at)
                    VALUES (:tenant, :name, :cron, :every, :zone, :catchUp, :paused, :next, :jobs, :now)
                    RETURNING id""")
                    .param("tenant", tenant)
                    .param("name", schedule.name())
                    .param("cron", schedule.cron() == null ? null : schedule.cron().trim())
                    .param("every", every)
                    .param("zone", schedule.timeZone())
                    .param("catchUp", schedule.catchUp().value())
                    .param("paused", schedule.paused())
                    .param("next", timestamp(first))
                    .param("jobs", schedule.jobs().size())
                    .param("now", timestamp(created))
                    .query(Long.class).single();
            insertJobs(id, schedule.jobs());
            return find(tenant, id).orElseThrow();
        });
    }

    private void insertJobs(long scheduleId, List<NewJob> jobs) {
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            NewJob j = jobs.get(i);
            rows.add(new Object[] {scheduleId, i, j.url(), j.host(), j.method(), j.headersJson(), j.body(), j.priority(),
                (short) j.maxAttempts(), j.timeoutMs(), j.maxBodyBytes(), j.storeBody(), j.followRedirects(),
                String.join(",", j.extract()), j.metadataJson(), j.conditional(), j.robots()});
        }
        template.batchUpdate("""
                INSERT INTO fetchq.schedule_job (schedule_id, position, url, host, method, headers, body, priority,
                                                 max_attempts, timeout_ms, max_body_bytes, store_body,
                                                 follow_redirects, extract, metadata, conditional, robots)
                VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, string_to_array(?, ','), ?::jsonb, ?, ?)""", rows);
    }

    /**
     * What a change sets; null fields stay as they are. Giving {@code cron} clears {@code every}
     * and the other way round.
     */
    public record Change(String name, String cron, String every, String timeZone, CatchUp catchUp, Boolean paused,
            List<NewJob> jobs) {
    }

    /**
     * Changes a schedule at {@code now}. A new recurrence (or time zone) goes on from its first time
     * after {@code now}; an {@code every} keeps its grid from the schedule's creation.
     *
     * @return the schedule as changed, empty when there is none
     * @throws IllegalArgumentException when the resulting recurrence is not valid or never comes
     */
    public Optional<ScheduleRow> update(String tenant, long id, Change change, Instant now) {
        return tx.execute(status -> {
            Optional<ScheduleRow> found = lock(tenant, id);
            if (found.isEmpty()) {
                return found;
            }
            ScheduleRow s = found.get();
            String cron = change.cron() != null ? change.cron().trim() : change.every() != null ? null : s.cron();
            String every = change.every() != null ? Duration.parse(change.every().trim()).toString()
                    : change.cron() != null ? null : s.every();
            String zone = change.timeZone() != null ? change.timeZone() : s.timeZone();
            boolean paused = change.paused() != null ? change.paused() : s.paused();
            Recurrence recurrence = recurrence(cron, every, zone, s.createdAt().toInstant());
            boolean retimed = change.cron() != null || change.every() != null || change.timeZone() != null
                    || (s.paused() && !paused);
            Instant next = s.nextRunAt() == null ? null : s.nextRunAt().toInstant();
            if (retimed) {
                next = recurrence.next(now);
                if (next == null) {
                    throw new IllegalArgumentException("cron '" + cron + "' never matches a date");
                }
            }
            int jobCount = s.jobCount();
            if (change.jobs() != null) {
                if (change.jobs().isEmpty()) {
                    throw new IllegalArgumentException("a schedule needs at least one job");
                }
                jdbc.sql("DELETE FROM fetchq.schedule_job WHERE schedule_id = :id").param("id", id).update();
                insertJobs(id, change.jobs());
                jobCount = change.jobs().size();
            }
            jdbc.sql("""
                    UPDATE fetchq.schedule
                    SET name = :name, cron = :cron, every = :every, time_zone = :zone, catch_up = :catchUp,
                        paused = :paused, next_run_at = :next, job_count = :jobs
                    WHERE id = :id""")
                    .param("name", change.name() != null ? change.name() : s.name())
                    .param("cron", cron)
                    .param("every", every)
                    .param("zone", zone)
                    .param("catchUp", (change.catchUp() != null ? change.catchUp() : s.catchUp()).value())
                    .param("paused", paused)
                    .param("next", next == null ? null : timestamp(next))
                    .param("jobs", jobCount)
                    .param("id", id)
                    .update();
            return find(tenant, id);
        });
    }

    /** The schedule {@code id} of {@code tenant} (null: any tenant's). */
    public Optional<ScheduleRow> find(String tenant, long id) {
        return byId(tenant, id, "");
    }

    /** As {@link #find}, the row locked until the transaction ends. */
    private Optional<ScheduleRow> lock(String tenant, long id) {
        return byId(tenant, id, " FOR UPDATE");
    }

    private Optional<ScheduleRow> byId(String tenant, long id, String lockClause) {
        return Tenants.bind(jdbc.sql("SELECT " + COLUMNS + " FROM fetchq.schedule s WHERE s.id = :id"
                        + Tenants.condition("s", tenant) + lockClause).param("id", id), tenant)
                .query(ScheduleQueries::row).optional();
    }

    /** Schedules of {@code tenant} (null: every tenant's) after {@code afterId}, in id order. */
    public List<ScheduleRow> list(String tenant, long afterId, int limit) {
        return Tenants.bind(jdbc.sql("SELECT " + COLUMNS + " FROM fetchq.schedule s WHERE s.id > :after"
                        + Tenants.condition("s", tenant) + " ORDER BY s.id LIMIT :limit")
                .param("after", afterId)
                .param("limit", limit), tenant)
                .query(ScheduleQueries::row).list();
    }

    /**
     * Pauses or resumes a schedule. A paused schedule skips the runs it misses: on resume it goes on
     * at its first time after {@code now}.
     *
     * @return the schedule as changed, empty when there is none
     */
    public Optional<ScheduleRow> setPaused(String tenant, long id, boolean paused, Instant now) {
        return update(tenant, id, new Change(null, null, null, null, null, paused, null), now);
    }

    /** Deletes a schedule; its batches stay. @return whether there was one */
    public boolean delete(String tenant, long id) {
        return Tenants.bind(jdbc.sql("DELETE FROM fetchq.schedule s WHERE s.id = :id" + Tenants.condition("s", tenant))
                .param("id", id), tenant).update() > 0;
    }

    /**
     * Runs a schedule once now, outside its recurrence (which it does not move).
     *
     * @return the run, empty when there is no such schedule
     */
    public Optional<Run> runNow(String tenant, long id, Instant now) {
        Optional<Run> run = tx.execute(status -> lock(tenant, id).map(s -> {
            // Its nominal time is now, or the first free microsecond after (a scheduled run may hold now).
            Instant nominal = now.truncatedTo(ChronoUnit.MICROS);
            Optional<Run> made = createRun(s.id(), nominal);
            while (made.isEmpty()) {
                nominal = nominal.plus(1, ChronoUnit.MICROS);
                made = createRun(s.id(), nominal);
            }
            Run r = made.get();
            jdbc.sql("UPDATE fetchq.schedule SET last_run_at = :at, last_batch_id = :batch WHERE id = :id")
                    .param("at", timestamp(r.nominalTime()))
                    .param("batch", r.batchId())
                    .param("id", s.id())
                    .update();
            return r;
        }));
        run.ifPresent(r -> workersNotifier.announce());
        return run;
    }

    /** The default of {@code fetchq.schedules.max-jobs-per-pass}: the most jobs one pass creates. */
    public static final int MOST_JOBS_PER_PASS = 50_000;

    /**
     * What a {@link #runDue} pass did: how many schedules it claimed, whether it stopped at
     * {@link #MOST_JOBS_PER_PASS} with runs left to make, and the runs it made.
     */
    public record Pass(int claimed, boolean cut, List<Run> runs) {

        /** Another pass may find due schedules at once. */
        public boolean more(int limit) {
            return cut || claimed >= limit;
        }
    }

    /**
     * Claims up to {@code limit} schedules due at {@code now} that no one else holds, creates their
     * runs and moves each to its next time, in one transaction (at most {@link #MOST_JOBS_PER_PASS}
     * jobs, {@code fetchq.schedules.max-jobs-per-pass}: a schedule with runs left keeps its next time
     * at the first of them).
     *
     * <p>A due time no older than {@code lateAfter} is a run that is merely late, and runs; older
     * ones were missed (nothing ran schedules then) and follow the schedule's {@code catch_up}. A
     * schedule whose times cannot be computed (its row changed by hand to nonsense) is paused, and
     * said so in the log, rather than stopping every other schedule.
     *
     * @return the pass: schedules claimed, runs created in schedule and time order
     */
    public Pass runDue(Instant now, int limit, Duration lateAfter) {
        return runDue(now, limit, lateAfter, MOST_JOBS_PER_PASS);
    }

    /** As {@link #runDue(Instant, int, Duration)}, creating at most {@code maxJobs} jobs (then {@code cut}). */
    public Pass runDue(Instant now, int limit, Duration lateAfter, int maxJobs) {
        Pass pass = tx.execute(status -> {
            List<ScheduleRow> due = jdbc.sql("SELECT " + COLUMNS + " FROM fetchq.schedule s"
                            + " WHERE NOT paused AND next_run_at <= :now ORDER BY next_run_at LIMIT :limit FOR UPDATE SKIP LOCKED")
                    .param("now", timestamp(now))
                    .param("limit", limit)
                    .query(ScheduleQueries::row).list();
            List<Run> made = new ArrayList<>();
            int jobs = 0;
            boolean cut = false;
            for (ScheduleRow s : due) {
                if (cut) {
                    break;
                }
                List<Instant> toRun;
                Instant next;
                try {
                    Recurrence recurrence = s.recurrence();
                    toRun = timesToRun(recurrence, s.catchUp(), s.nextRunAt().toInstant(), now, now.minus(lateAfter));
                    next = recurrence.next(now);
                } catch (RuntimeException e) {
                    log.error("schedule {} paused: its times cannot be computed ({})", s.id(), e.toString());
                    jdbc.sql("UPDATE fetchq.schedule SET paused = true WHERE id = :id").param("id", s.id()).update();
                    continue;
                }
                Long lastBatch = s.lastBatchId();
                Instant lastRun = s.lastRunAt() == null ? null : s.lastRunAt().toInstant();
                for (Instant nominal : toRun) {
                    if (jobs > 0 && jobs + s.jobCount() > maxJobs) {
                        next = nominal;
                        cut = true;
                        break;
                    }
                    Optional<Run> run = createRun(s.id(), nominal);
                    if (run.isPresent()) {
                        made.add(run.get());
                        jobs += s.jobCount();
                        lastBatch = run.get().batchId();
                        lastRun = nominal;
                    }
                }
                jdbc.sql("""
                        UPDATE fetchq.schedule SET next_run_at = :next, last_run_at = :lastRun, last_batch_id = :lastBatch
                        WHERE id = :id""")
                        .param("next", next == null ? null : timestamp(next))
                        .param("lastRun", lastRun == null ? null : timestamp(lastRun))
                        .param("lastBatch", lastBatch)
                        .param("id", s.id())
                        .update();
            }
            return new Pass(due.size(), cut, made);
        });
        if (!pass.runs().isEmpty()) {
            workersNotifier.announce();
        }
        return pass;
    }

    /**
     * The nominal times to run now of a schedule whose next time {@code from} has come: those not
     * older than {@code lateLimit}, and of the older (missed) ones what {@code catchUp} says; at
     * most {@link #MOST_CATCH_UP_RUNS} in all, the latest.
     */
    static List<Instant> timesToRun(Recurrence recurrence, CatchUp catchUp, Instant from, Instant now, Instant lateLimit) {
        List<Instant> times = new ArrayList<>();
        if (!from.isBefore(lateLimit)) {
            times.add(from);
            times.addAll(recurrence.between(from, now, MOST_CATCH_UP_RUNS));
        } else {
            List<Instant> onTime = recurrence.between(lateLimit.minusNanos(1), now, MOST_CATCH_UP_RUNS);
            switch (catchUp) {
                case ALL -> {
                    times.add(from);
                    times.addAll(recurrence.between(from, lateLimit.minusNanos(1), MOST_CATCH_UP_RUNS));
                }
                case ONE -> {
                    List<Instant> latest = recurrence.between(from, lateLimit.minusNanos(1), 1);
                    times.add(latest.isEmpty() ? from : latest.getFirst());
                }
                case SKIP -> { }
            }
            times.addAll(onTime);
        }
        return times.size() > MOST_CATCH_UP_RUNS ? List.copyOf(times.subList(times.size() - MOST_CATCH_UP_RUNS, times.size()))
                : times;
    }

    private Optional<Run> createRun(long scheduleId, Instant nominal) {
        return jdbc.sql(RUN)
                .param("nominal", timestamp(nominal))
                .param("schedule", scheduleId)
                .query(Long.class).optional()
                .map(batch -> new Run(scheduleId, nominal, batch));
    }

    private static OffsetDateTime timestamp(Instant at) {
        return OffsetDateTime.ofInstant(at, ZoneOffset.UTC);
    }

    private static ScheduleRow row(ResultSet rs, int n) throws SQLException {
        return new ScheduleRow(rs.getLong("id"), rs.getString("tenant"), rs.getString("name"), rs.getString("cron"),
                rs.getString("every"), rs.getString("time_zone"), CatchUp.of(rs.getString("catch_up")),
                rs.getBoolean("paused"), rs.getObject("next_run_at", OffsetDateTime.class),
                rs.getObject("last_run_at", OffsetDateTime.class), rs.getObject("last_batch_id", Long.class),
                rs.getInt("job_count"), rs.getObject("created_at", OffsetDateTime.class));
    }
}
