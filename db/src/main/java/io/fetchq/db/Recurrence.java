package io.fetchq.db;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.scheduling.support.CronExpression;

/**
 * When a schedule runs: a cron expression of five fields read in a time zone, or a fixed interval
 * on a grid from an origin (the schedule's creation).
 *
 * <p>Cron follows POSIX cron: minute, hour, day of month, month, day of week (0 or 7 is Sunday;
 * names allowed); when both day fields are restricted (neither starts with {@code *}) a day
 * matches if either does. Matching is on the zone's wall clock, and each wall-clock time that
 * matches runs once: a time skipped by a change to summer time runs when the clock has jumped
 * (02:30 on a night that goes from 02:00 to 03:00 runs at 03:30), and a time that occurs twice when
 * the clock goes back runs at its first occurrence only.
 */
public final class Recurrence {

    /** The shortest interval of {@code every}. */
    public static final Duration SHORTEST_EVERY = Duration.ofSeconds(1);

    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");

    private final ZoneId zone;
    /** With both day fields restricted, two expressions (either day field), else one. */
    private final CronExpression byDayOfMonth;
    private final CronExpression byDayOfWeek;
    private final Duration every;
    private final Instant origin;

    private Recurrence(ZoneId zone, CronExpression byDayOfMonth, CronExpression byDayOfWeek, Duration every,
            Instant origin) {
        this.zone = zone;
        this.byDayOfMonth = byDayOfMonth;
        this.byDayOfWeek = byDayOfWeek;
        this.every = every;
        this.origin = origin;
    }

    /**
     * A cron schedule.
     *
     * @throws IllegalArgumentException naming what is wrong with {@code cron} or {@code timeZone}
     */
    public static Recurrence cron(String cron, String timeZone) {
        ZoneId zone = zone(timeZone);
        String expression = MACROS.getOrDefault(cron.trim().toLowerCase(Locale.ROOT), cron.trim());
        String[] fields = expression.split("\\s+");
        if (fields.length != 5) {
            throw new IllegalArgumentException(
                    "cron must have 5 fields (minute hour day-of-month month day-of-week), found " + fields.length);
        }
        for (String field : fields) {
            if (!field.matches("[0-9A-Za-z*/,\\-]+")) {
                throw new IllegalArgumentException("cron field '" + field + "' has characters POSIX cron does not allow");
            }
        }
        try {
            boolean bothDays = !fields[2].startsWith("*") && !fields[4].startsWith("*");
            if (bothDays) {
                return new Recurrence(zone, parse(fields, fields[2], "*"), parse(fields, "*", fields[4]), null, null);
            }
            return new Recurrence(zone, parse(fields, fields[2], fields[4]), null, null, null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cron '" + cron + "' is not valid: " + e.getMessage(), e);
        }
    }

    private static CronExpression parse(String[] fields, String dayOfMonth, String dayOfWeek) {
        return CronExpression.parse("0 " + fields[0] + " " + fields[1] + " " + dayOfMonth + " " + fields[3] + " " + dayOfWeek);
    }

    /**
     * An interval schedule: runs at {@code origin}, then every {@code every} after it.
     *
     * @param every an ISO-8601 duration of at least a second, e.g. {@code PT15M}
     * @throws IllegalArgumentException naming what is wrong with {@code every} or {@code timeZone}
     */
    public static Recurrence every(String every, String timeZone, Instant origin) {
        ZoneId zone = zone(timeZone);
        Duration interval;
        try {
            interval = Duration.parse(every.trim());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    "every must be an ISO-8601 duration in days, hours, minutes or seconds, e.g. PT15M or P1D: '" + every + "'");
        }
        if (interval.compareTo(SHORTEST_EVERY) < 0) {
            throw new IllegalArgumentException("every must be at least 1 second: '" + every + "'");
        }
        return new Recurrence(zone, null, null, interval, origin);
    }

    private static ZoneId zone(String timeZone) {
        try {
            return ZoneId.of(timeZone);
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("time_zone must be an IANA time zone such as Europe/Berlin: '" + timeZone + "'");
        }
    }

    /** The first run strictly after {@code after}, or null if there is none (a cron date that never comes). */
    public Instant next(Instant after) {
        if (every != null) {
            if (after.isBefore(origin)) {
                return origin;
            }
            long nanos = Duration.between(origin, after).toNanos();
            long steps = nanos / every.toNanos() + 1;
            return origin.plus(every.multipliedBy(steps));
        }
        LocalDateTime wall = LocalDateTime.ofInstant(after, zone);
        // Walk the wall clock; the first matching time whose instant is after "after" (a time already
        // run in the first pass of a repeated hour maps to its first occurrence, so it is passed).
        for (int guard = 0; guard < 10_000; guard++) {
            LocalDateTime match = nextWall(wall);
            if (match == null) {
                return null;
            }
            Instant at = ZonedDateTime.ofLocal(match, zone, null).toInstant();
            if (at.isAfter(after)) {
                return at;
            }
            wall = match;
        }
        return null;
    }

    private LocalDateTime nextWall(LocalDateTime wall) {
        LocalDateTime first = byDayOfMonth.next(wall);
        if (byDayOfWeek == null) {
            return first;
        }
        LocalDateTime second = byDayOfWeek.next(wall);
        if (first == null) {
            return second;
        }
        return second == null || first.isBefore(second) ? first : second;
    }

    /** The runs due in {@code (after, upTo]} in order, at most {@code most} of the latest. */
    public List<Instant> between(Instant after, Instant upTo, int most) {
        if (every != null) {
            // On the grid: no walk over every point of a long outage.
            List<Instant> runs = new ArrayList<>();
            if (upTo.isBefore(origin) || most <= 0) {
                return runs;
            }
            long step = every.toNanos();
            long last = Duration.between(origin, upTo).toNanos() / step;
            long first = after.isBefore(origin) ? 0 : Duration.between(origin, after).toNanos() / step + 1;
            for (long k = Math.max(first, last - most + 1); k <= last; k++) {
                runs.add(origin.plus(every.multipliedBy(k)));
            }
            return runs;
        }
        ArrayDeque<Instant> runs = new ArrayDeque<>();
        for (Instant at = next(after); at != null && !at.isAfter(upTo); at = next(at)) {
            runs.addLast(at);
            if (runs.size() > most) {
                runs.removeFirst();
            }
        }
        return List.copyOf(runs);
    }
}
