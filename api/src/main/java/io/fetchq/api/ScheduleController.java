package io.fetchq.api;

import io.fetchq.api.intake.Intake;
import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.Errors;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.Caller;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.db.BatchQueries;
import io.fetchq.db.BatchRow;
import io.fetchq.db.NewJob;
import io.fetchq.db.Recurrence;
import io.fetchq.db.ScheduleQueries;
import io.fetchq.db.ScheduleQueries.CatchUp;
import io.fetchq.db.ScheduleQueries.Change;
import io.fetchq.db.ScheduleQueries.NewSchedule;
import io.fetchq.db.ScheduleQueries.ScheduleRow;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** Schedules: the same jobs run again and again, each run a batch. */
@Tag(name = "Schedules", description = "Recurring runs of the same jobs (cron or every), each run a batch")
@RestController
@RequestMapping("/api/v1/schedules")
class ScheduleController {

    /** The longest name of a schedule. */
    static final int MAX_NAME = 200;

    private static final Set<String> FIELDS = Set.of("name", "cron", "every", "time_zone", "catch_up", "paused");

    /** A schedule as the API shows it. */
    record ScheduleResource(long id, String name, String cron, String every, String timeZone, String catchUp,
            boolean paused, OffsetDateTime nextRunAt, OffsetDateTime lastRunAt, Long lastBatchId, int jobCount,
            OffsetDateTime createdAt) {

        static ScheduleResource of(ScheduleRow s) {
            return new ScheduleResource(s.id(), s.name(), s.cron(), s.every(), s.timeZone(), s.catchUp().value(),
                    s.paused(), s.paused() ? null : s.nextRunAt(), s.lastRunAt(), s.lastBatchId(), s.jobCount(),
                    s.createdAt());
        }
    }

    private final Intake intake;
    private final ScheduleQueries schedules;
    private final BatchQueries batches;
    private final ApplicationEventPublisher events;
    private final Clock clock;

    ScheduleController(Intake intake, ScheduleQueries schedules, BatchQueries batches, ApplicationEventPublisher events,
            ObjectProvider<Clock> clock) {
        this.intake = intake;
        this.schedules = schedules;
        this.batches = batches;
        this.events = events;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @Operation(summary = "Create a schedule", description = "{\"name\", \"cron\" (5 fields, POSIX day rules) or "
            + "\"every\" (ISO-8601 duration, at least PT1S), \"time_zone\" (IANA, default UTC), \"catch_up\" (skip, "
            + "one or all), \"jobs\" or \"urls\" with \"defaults\" as in a batch (at most 10,000), \"paused\"}. Each "
            + "run is a batch; a run happens once however many workers and API replicas there are.")
    @Requires(Scope.SUBMIT)
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<ScheduleResource> create(@Parameter(hidden = true) HttpServletRequest request, Caller caller) {
        JsonNode root = intake.json(intake.readBody(request));
        Errors errors = new Errors();
        List<NewJob> jobs = intake.scheduleJobs(root, FIELDS, errors);
        String name = text(root, "name", errors);
        if (absent(root, "name")) {
            errors.add(FieldError.atPointer("/name", "is required"));
        }
        String cron = text(root, "cron", errors);
        String every = text(root, "every", errors);
        if (absent(root, "cron") && absent(root, "every")) {
            errors.add(FieldError.atPointer("", "a schedule needs cron or every"));
        } else if (cron != null && every != null) {
            errors.add(FieldError.atPointer("/every", "give either cron or every, not both"));
        }
        String zone = text(root, "time_zone", errors);
        CatchUp catchUp = catchUp(root, errors);
        Boolean paused = flag(root, "paused", errors);
        checkRecurrence(cron, every, zone == null ? "UTC" : zone, errors);
        errors.throwIfAny();
        ScheduleRow created = schedules.create(caller.tenant(), new NewSchedule(name, cron, every,
                zone == null ? "UTC" : zone, catchUp == null ? CatchUp.SKIP : catchUp, Boolean.TRUE.equals(paused), jobs),
                clock.instant());
        events.publishEvent(new InProcessWorker.JobsSubmitted());
        return ResponseEntity.created(URI.create("/api/v1/schedules/" + created.id())).body(ScheduleResource.of(created));
    }

    @Operation(summary = "List schedules", description = "In id order with next_run_at and the last run's batch; "
            + "pass the last id as after_id for more.")
    @Requires(Scope.READ)
    @GetMapping
    List<ScheduleResource> list(Caller caller,
            @Parameter(description = "schedules to list, 1 to 1000 (default 100)")
            @RequestParam(required = false, defaultValue = "100") int limit,
            @RequestParam(name = "after_id", required = false, defaultValue = "0") long afterId) {
        Listings.checkLimit(limit);
        return schedules.list(caller.visibleTenant(), afterId, limit).stream().map(ScheduleResource::of).toList();
    }

    @Operation(summary = "Read a schedule")
    @Requires(Scope.READ)
    @GetMapping("/{id}")
    ScheduleResource get(@PathVariable long id, Caller caller) {
        return ScheduleResource.of(schedules.find(caller.visibleTenant(), id).orElseThrow(() -> notFound(id)));
    }

    @Operation(summary = "Change a schedule", description = "Any of the fields of its creation; cron replaces every "
            + "and the other way round, and jobs or urls (with defaults) replace its jobs. A new time goes on from "
            + "its first occurrence after now.")
    @Requires(Scope.SUBMIT)
    @PatchMapping(path = "/{id}", consumes = MediaType.APPLICATION_JSON_VALUE)
    ScheduleResource update(@PathVariable long id, @Parameter(hidden = true) HttpServletRequest request, Caller caller) {
        ScheduleRow current = schedules.find(caller.visibleTenant(), id).orElseThrow(() -> notFound(id));
        JsonNode root = intake.json(intake.readBody(request));
        Errors errors = new Errors();
        if (!root.isObject()) {
            errors.add(FieldError.atPointer("", "must be a JSON object"));
            errors.throwIfAny();
        }
        List<NewJob> jobs = null;
        if (root.has("jobs") || root.has("urls")) {
            jobs = intake.scheduleJobs(root, FIELDS, errors);
        } else {
            for (String field : root.propertyNames()) {
                if (!FIELDS.contains(field)) {
                    errors.add(FieldError.atPointer("/" + field, field.equals("defaults")
                            ? "defaults apply to the jobs given with them: give jobs or urls too" : "unknown field"));
                }
            }
        }
        String name = text(root, "name", errors);
        String cron = text(root, "cron", errors);
        String every = text(root, "every", errors);
        if (cron != null && every != null) {
            errors.add(FieldError.atPointer("/every", "give at most one of cron and every"));
        }
        String zone = text(root, "time_zone", errors);
        CatchUp catchUp = catchUp(root, errors);
        Boolean paused = flag(root, "paused", errors);
        if (errors.isEmpty()) {
            String cronAfter = cron != null ? cron : every != null ? null : current.cron();
            String everyAfter = every != null ? every : cron != null ? null : current.every();
            checkRecurrence(cronAfter, everyAfter, zone != null ? zone : current.timeZone(), errors);
        }
        errors.throwIfAny();
        try {
            return ScheduleResource.of(schedules.update(caller.visibleTenant(), id,
                    new Change(name, cron, every, zone, catchUp, paused, jobs), clock.instant())
                    .orElseThrow(() -> notFound(id)));
        } catch (IllegalArgumentException e) {
            throw ApiProblem.invalid(List.of(FieldError.atPointer(cron != null ? "/cron" : "", e.getMessage())), 1);
        }
    }

    @Operation(summary = "Delete a schedule", description = "Its batches stay, with their schedule_id.")
    @Requires(Scope.SUBMIT)
    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(@PathVariable long id, Caller caller) {
        if (!schedules.delete(caller.visibleTenant(), id)) {
            throw notFound(id);
        }
        return ResponseEntity.noContent().build();
    }

    @Operation(summary = "Pause a schedule", description = "It skips the runs it misses while paused.")
    @Requires(Scope.SUBMIT)
    @PostMapping("/{id}/pause")
    ScheduleResource pause(@PathVariable long id, Caller caller) {
        return ScheduleResource.of(schedules.setPaused(caller.visibleTenant(), id, true, clock.instant())
                .orElseThrow(() -> notFound(id)));
    }

    @Operation(summary = "Resume a schedule", description = "It goes on at its first time after now.")
    @Requires(Scope.SUBMIT)
    @PostMapping("/{id}/resume")
    ScheduleResource resume(@PathVariable long id, Caller caller) {
        return ScheduleResource.of(schedules.setPaused(caller.visibleTenant(), id, false, clock.instant())
                .orElseThrow(() -> notFound(id)));
    }

    @Operation(summary = "Run a schedule now", description = "One run now, beside its times (which do not move); "
            + "answers the run's batch.")
    @Requires(Scope.SUBMIT)
    @PostMapping("/{id}/run")
    ResponseEntity<BatchRow> run(@PathVariable long id, Caller caller) {
        ScheduleQueries.Run run = schedules.runNow(caller.visibleTenant(), id, clock.instant())
                .orElseThrow(() -> notFound(id));
        events.publishEvent(new InProcessWorker.JobsSubmitted());
        BatchRow batch = batches.getById(run.batchId()).orElseThrow();
        return ResponseEntity.created(URI.create("/api/v1/batches/" + batch.id())).body(batch);
    }

    private static ApiProblem notFound(long id) {
        return ApiProblem.notFound("schedule " + id);
    }

    private static boolean absent(JsonNode root, String field) {
        return JsonFields.absent(root, field);
    }

    private static String text(JsonNode root, String field, Errors errors) {
        return JsonFields.text(root, field, field.equals("name") ? MAX_NAME : Integer.MAX_VALUE, errors);
    }

    private static Boolean flag(JsonNode root, String field, Errors errors) {
        return JsonFields.flag(root, field, errors);
    }

    private static CatchUp catchUp(JsonNode root, Errors errors) {
        JsonNode node = root.get("catch_up");
        if (node == null || node.isNull()) {
            return null;
        }
        try {
            return CatchUp.of(node.isString() ? node.stringValue() : node.toString());
        } catch (IllegalArgumentException e) {
            errors.add(FieldError.atPointer("/catch_up", "must be one of skip, one, all"));
            return null;
        }
    }

    /** The recurrence is valid and comes: else an error at the field at fault. */
    private static void checkRecurrence(String cron, String every, String zone, Errors errors) {
        if (cron == null && every == null) {
            return;
        }
        try {
            Recurrence recurrence = ScheduleQueries.recurrence(cron, every, zone, Instant.EPOCH);
            if (cron != null && recurrence.next(Instant.now()) == null) {
                errors.add(FieldError.atPointer("/cron", "never matches a date"));
            }
        } catch (IllegalArgumentException e) {
            String pointer = e.getMessage().startsWith("time_zone") ? "/time_zone" : cron != null ? "/cron" : "/every";
            errors.add(FieldError.atPointer(pointer, e.getMessage()));
        }
    }
}
