package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Cron in a time zone (POSIX day rules, DST gaps and overlaps) and interval grids. */
class RecurrenceTest {

    private static final String BERLIN = "Europe/Berlin";

    /** The first {@code n} runs after {@code after}. */
    private static List<Instant> runs(Recurrence r, String after, int n) {
        List<Instant> runs = new ArrayList<>();
        Instant at = OffsetDateTime.parse(after).toInstant();
        for (int i = 0; i < n; i++) {
            at = r.next(at);
            runs.add(at);
        }
        return runs;
    }

    private static Instant at(String offsetDateTime) {
        return OffsetDateTime.parse(offsetDateTime).toInstant();
    }

    @Test
    void aTimeSkippedBySummerTimeRunsOnceWhenTheClockHasJumped() {
        // 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST, so 02:30 does not exist that night.
        assertThat(runs(Recurrence.cron("30 2 * * *", BERLIN), "2026-03-27T12:00:00+01:00", 3)).containsExactly(
                at("2026-03-28T02:30:00+01:00"), at("2026-03-29T03:30:00+02:00"), at("2026-03-30T02:30:00+02:00"));
    }

    @Test
    void aTimeThatOccursTwiceWhenTheClockGoesBackRunsOnce() {
        // 2026-10-25 in Berlin: 03:00 CEST becomes 02:00 CET, so 02:30 comes twice.
        assertThat(runs(Recurrence.cron("30 2 * * *", BERLIN), "2026-10-24T12:00:00+02:00", 3)).containsExactly(
                at("2026-10-25T02:30:00+02:00"), at("2026-10-26T02:30:00+01:00"), at("2026-10-27T02:30:00+01:00"));
        // Asked from inside the second pass of the repeated hour, it does not run 02:30 again.
        assertThat(Recurrence.cron("30 2 * * *", BERLIN).next(at("2026-10-25T02:10:00+01:00")))
                .isEqualTo(at("2026-10-26T02:30:00+01:00"));
    }

    @Test
    void aScheduleWithAWildcardHourRunsInRealTimeAcrossBothChanges() {
        // As vixie cron: the jump forward has no 02:00; the repeated hour runs in both its passes.
        Recurrence hourly = Recurrence.cron("@hourly", BERLIN);
        assertThat(runs(hourly, "2026-03-29T00:30:00+01:00", 3)).containsExactly(
                at("2026-03-29T01:00:00+01:00"), at("2026-03-29T03:00:00+02:00"), at("2026-03-29T04:00:00+02:00"));
        assertThat(runs(hourly, "2026-10-25T00:30:00+02:00", 5)).containsExactly(
                at("2026-10-25T01:00:00+02:00"), at("2026-10-25T02:00:00+02:00"), at("2026-10-25T02:00:00+01:00"),
                at("2026-10-25T03:00:00+01:00"), at("2026-10-25T04:00:00+01:00"));
        Recurrence quarterly = Recurrence.cron("*/15 * * * *", BERLIN);
        assertThat(runs(quarterly, "2026-10-25T02:40:00+02:00", 3)).containsExactly(
                at("2026-10-25T02:45:00+02:00"), at("2026-10-25T02:00:00+01:00"), at("2026-10-25T02:15:00+01:00"));
    }

    @Test
    void bothDayFieldsRestrictedMatchEitherDayAsPosixCronDoes() {
        // Midnight on the 13th, and on every Friday (not only on Fridays the 13th).
        List<LocalDate> days = runs(Recurrence.cron("0 0 13 * 5", "UTC"), "2026-02-01T00:00:00Z", 6).stream()
                .map(i -> LocalDate.ofInstant(i, ZoneId.of("UTC"))).toList();
        assertThat(days).containsExactly(LocalDate.of(2026, 2, 6), LocalDate.of(2026, 2, 13), LocalDate.of(2026, 2, 20),
                LocalDate.of(2026, 2, 27), LocalDate.of(2026, 3, 6), LocalDate.of(2026, 3, 13));
        // A day field that starts with * does not count as restricted: then both must match.
        assertThat(runs(Recurrence.cron("0 0 */10 * 1", "UTC"), "2026-01-01T00:00:00Z", 2)).allSatisfy(i -> {
            LocalDate d = LocalDate.ofInstant(i, ZoneId.of("UTC"));
            assertThat(d.getDayOfWeek().getValue()).isEqualTo(1);
            assertThat((d.getDayOfMonth() - 1) % 10).isZero();
        });
        // Steps over the week count from Sunday (0), as POSIX cron does: Sunday, Tuesday, Thursday, Saturday.
        assertThat(runs(Recurrence.cron("0 12 * * */2", "UTC"), "2026-02-01T00:00:00Z", 4).stream()
                .map(i -> LocalDate.ofInstant(i, ZoneId.of("UTC")).getDayOfWeek().getValue()).toList())
                .containsExactly(7, 2, 4, 6);
        // 7 is Sunday as well as 0.
        assertThat(runs(Recurrence.cron("0 12 * * 7", "UTC"), "2026-02-01T13:00:00Z", 1))
                .containsExactly(at("2026-02-08T12:00:00Z"));
    }

    @Test
    void everyRunsOnAGridFromItsOriginAndNeverDrifts() {
        Instant origin = at("2026-01-01T10:00:07Z");
        Recurrence r = Recurrence.every("PT15M", "UTC", origin);
        assertThat(r.next(origin.minusNanos(1))).isEqualTo(origin);
        assertThat(r.next(origin)).isEqualTo(origin.plus(Duration.ofMinutes(15)));
        assertThat(r.next(at("2026-01-01T12:31:00Z"))).isEqualTo(at("2026-01-01T12:45:07Z"));
        assertThat(r.between(origin, at("2026-01-01T11:00:07Z"), 100)).containsExactly(
                at("2026-01-01T10:15:07Z"), at("2026-01-01T10:30:07Z"), at("2026-01-01T10:45:07Z"),
                at("2026-01-01T11:00:07Z"));
        // The latest ones of a long outage, without walking it.
        assertThat(Recurrence.every("PT1S", "UTC", origin).between(origin, origin.plus(Duration.ofDays(3650)), 2))
                .containsExactly(origin.plus(Duration.ofDays(3650)).minusSeconds(1), origin.plus(Duration.ofDays(3650)));
    }

    @Test
    void cronBetweenKeepsTheLatest() {
        Recurrence r = Recurrence.cron("*/5 * * * *", "UTC");
        assertThat(r.between(at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 3)).containsExactly(
                at("2026-01-01T00:50:00Z"), at("2026-01-01T00:55:00Z"), at("2026-01-01T01:00:00Z"));
    }

    @Test
    void invalidSchedulesSayWhatIsWrong() {
        assertThatThrownBy(() -> Recurrence.cron("0 0 * * * *", "UTC")).hasMessageContaining("5 fields");
        assertThatThrownBy(() -> Recurrence.cron("0 0 ? * MON", "UTC")).hasMessageContaining("POSIX");
        assertThatThrownBy(() -> Recurrence.cron("61 0 * * *", "UTC")).hasMessageContaining("not valid");
        assertThatThrownBy(() -> Recurrence.cron("0 0 * * *", "Mars/Olympus")).hasMessageContaining("IANA");
        assertThatThrownBy(() -> Recurrence.every("PT0.5S", "UTC", Instant.EPOCH)).hasMessageContaining("at least 1 second");
        assertThatThrownBy(() -> Recurrence.every("P1M", "UTC", Instant.EPOCH)).hasMessageContaining("ISO-8601");
        assertThatThrownBy(() -> Recurrence.every("P200000D", "UTC", Instant.EPOCH)).hasMessageContaining("at most 366 days");
        assertThatThrownBy(() -> Recurrence.every("PT1.0000001S", "UTC", Instant.EPOCH)).hasMessageContaining("microseconds");
    }
}
