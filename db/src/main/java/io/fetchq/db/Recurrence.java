package io.fetchq.db;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
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
 * <p>Cron follows POSIX cron: minute, hour, day of month, month, day of week (0 to 6 from Sunday, 7
 * is Sunday too; names allowed); when both day fields are restricted (neither starts with
 * {@code *}) a day matches if either does. Matching is on the zone's wall clock, as vixie cron does
 * across daylight-saving changes: a time skipped when the clock jumps forward runs when it has
 * jumped (02:30 on a night that goes from 02:00 to 03:00 runs at 03:30); in the hour repeated when
 * the clock goes back, a schedule with a fixed hour runs once (at the first occurrence), and one
 * whose hour field is a wildcard runs in both passes, as its minutes come in real time.
 */
public final class Recurrence {

    /** The shortest interval of {@code every}. */
    public static final Duration SHORTEST_EVERY = Duration.ofSeconds(1);
    /** The longest interval of {@code every}; rarer runs are a cron's. */
    public static final Duration LONGEST_EVERY = Duration.ofDays(366);

    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");

    /** Windows before a time in which the latest runs are looked for, widening until enough are found. */
    private static final List<Duration> LOOK_BACK = List.of(Duration.ofHours(2), Duration.ofDays(2), Duration.ofDays(40),
            Duration.ofDays(400));

    private final ZoneId zone;
    /** With both day fields restricted, two expressions (either day field), else one. */
    private final CronExpression byDayOfMonth;
    private final CronExpression byDayOfWeek;
    /** The hour field is a wildcard: both passes of a repeated hour run. */
    private final boolean everyHour;
    private final Duration every;
    private final Instant origin;

    private Recurrence(ZoneId zone, CronExpression byDayOfMonth, CronExpression byDayOfWeek, boolean everyHour,
            Duration every, Instant origin) {
        this.zone = zone;
        this.byDayOfMonth = byDayOfMonth;
        this.byDayOfWeek = byDayOfWeek;
        this.everyHour = everyHour;
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
        // A stepped wildcard counts days of the week from Sunday (0), as POSIX cron does.
        String dayOfWeek = fields[4].startsWith("*/") ? "0-6" + fields[4].substring(1) : fields[4];
        try {
            boolean bothDays = !fields[2].startsWith("*") && !fields[4].startsWith("*");
            boolean everyHour = fields[1].startsWith("*");
            if (bothDays) {
                return new Recurrence(zone, parse(fields, fields[2], "*"), parse(fields, "*", dayOfWeek), everyHour,
                        null, null);
            }
            return new Recurrence(zone, parse(fields, fields[2], dayOfWeek), null, everyHour, null, null);
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
     * @param every an ISO-8601 duration from a second to 366 days in whole microseconds, e.g. {@code PT15M}
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
        if (interval.compareTo(LONGEST_EVERY) > 0) {
            throw new IllegalArgumentException("every must be at most 366 days (P366D); rarer runs take a cron: '" + every + "'");
        }
        if (!interval.truncatedTo(ChronoUnit.MICROS).equals(interval)) {
            throw new IllegalArgumentException("every must be in whole microseconds: '" + every + "'");
        }
        return new Recurrence(zone, null, null, false, interval, origin);
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
            return origin.plus(every.multipliedBy(Duration.between(origin, after).dividedBy(every) + 1));
        }
        Instant next = walk(after);
        if (everyHour) {
            // The clock going back before that: the repeated hour's wall times come again.
            ZoneOffsetTransition back = zone.getRules().nextTransition(after);
            if (back != null && back.isOverlap() && (next == null || back.getInstant().isBefore(next))) {
                LocalDateTime match = nextWall(back.getDateTimeAfter().minusNanos(1));
                if (match != null && match.isBefore(back.getDateTimeBefore())) {
                    Instant again = match.toInstant(back.getOffsetAfter());
                    if (again.isAfter(after) && (next == null || again.isBefore(next))) {
                        next = again;
                    }
                }
            }
        }
        return next;
    }

    /** The first matching wall-clock time after {@code after}'s, as an instant after {@code after}. */
    private Instant walk(Instant after) {
        LocalDateTime wall = LocalDateTime.ofInstant(after, zone);
        // Walk the wall clock; the first matching time whose instant is after "after" (a time already
        // run in the first pass of a repeated hour maps to its first occurrence, so it is passed).
        for (int guard = 0; guard < 10_000; guard++) {
            LocalDateTime match = nextWall(wall);
            if (match == null) {
                return null;
            }
            List<ZoneOffset> offsets = zone.getRules().getValidOffsets(match);
            if (offsets.size() == 2 && everyHour) {
                // Both passes of the repeated hour, in real time.
                Instant first = match.toInstant(offsets.get(0));
                Instant second = match.toInstant(offsets.get(1));
                Instant earlier = first.isBefore(second) ? first : second;
                Instant later = first.isBefore(second) ? second : first;
                if (earlier.isAfter(after)) {
                    return earlier;
                }
                if (later.isAfter(after)) {
                    return later;
                }
            } else {
                Instant at = ZonedDateTime.ofLocal(match, zone, null).toInstant();
                if (at.isAfter(after)) {
                    return at;
                }
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

    /**
     * The runs due in {@code (after, upTo]} in order, at most {@code most} of the latest; without
     * walking every run of a long outage (a cron is walked from a window before {@code upTo} that
     * widens until it holds enough).
     */
    public List<Instant> between(Instant after, Instant upTo, int most) {
        List<Instant> runs = new ArrayList<>();
        if (most <= 0 || !upTo.isAfter(after)) {
            return runs;
        }
        if (every != null) {
            if (upTo.isBefore(origin)) {
                return runs;
            }
            long last = Duration.between(origin, upTo).dividedBy(every);
            long first = after.isBefore(origin) ? 0 : Duration.between(origin, after).dividedBy(every) + 1;
            for (long k = Math.max(first, last - most + 1); k <= last; k++) {
                runs.add(origin.plus(every.multipliedBy(k)));
            }
            return runs;
        }
        for (Duration window : LOOK_BACK) {
            Instant from = upTo.minus(window);
            if (!from.isAfter(after)) {
                break;
            }
            List<Instant> found = walkAll(from, upTo, most);
            if (found.size() >= most) {
                return found;
            }
        }
        return walkAll(after, upTo, most);
    }

    private List<Instant> walkAll(Instant after, Instant upTo, int most) {
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
