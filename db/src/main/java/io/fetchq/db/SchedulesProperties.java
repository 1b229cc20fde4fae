package io.fetchq.db;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How a process runs schedules ({@code fetchq.schedules.*}). Every worker and every API process
 * runs them by default; each due schedule is run by whichever claims it first.
 *
 * @param enabled whether this process runs due schedules. Default true.
 * @param pollInterval how often the process looks for due schedules. Default 1s, so a run starts
 *     within about a second of its time; the look is one index probe when nothing is due.
 * @param lateAfter a due time older than this when it is run was missed (nothing ran schedules
 *     then) and follows the schedule's {@code catch_up}; a younger one is merely late and runs.
 *     Default 60s.
 * @param batch the most schedules one transaction runs. Default 100.
 * @param maxJobsPerPass the most jobs one transaction creates for schedules' runs (a schedule of
 *     10,000 jobs making up 100 missed runs would otherwise be a million rows in one transaction);
 *     the runs left are made by the next pass, at once. Default 50,000.
 */
@Validated
@ConfigurationProperties("fetchq.schedules")
public record SchedulesProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("1s") @NotNull Duration pollInterval,
        @DefaultValue("60s") @NotNull Duration lateAfter,
        @DefaultValue("100") @Min(1) @Max(10_000) int batch,
        @DefaultValue("50000") @Min(1) int maxJobsPerPass) {

    public SchedulesProperties {
        if (pollInterval != null && (pollInterval.isNegative() || pollInterval.isZero())) {
            throw new IllegalArgumentException("fetchq.schedules.poll-interval must be positive");
        }
        if (lateAfter != null && lateAfter.isNegative()) {
            throw new IllegalArgumentException("fetchq.schedules.late-after must not be negative");
        }
    }
}
