package io.fetchq.api;

import io.fetchq.api.intake.Intake;
import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.Caller;
import io.fetchq.api.security.HeaderRedaction;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.db.AttemptRow;
import io.fetchq.db.InsertOutcome;
import io.fetchq.db.JobFilter;
import io.fetchq.db.DbConfiguration;
import io.fetchq.db.Finished;
import io.fetchq.db.JobQueries;
import io.fetchq.db.JobResource;
import io.fetchq.db.Notifier;
import io.fetchq.db.JobRow;
import io.fetchq.db.JobState;
import io.fetchq.db.RetryOutcome;
import io.fetchq.db.StoredBody;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Single jobs: submit, read, list, cancel, retry. */
@Tag(name = "Jobs", description = "Submit one job, read it with its attempts and body, list, cancel, retry")
@RestController
@RequestMapping("/api/v1/jobs")
class JobController {

    private final Intake intake;
    private final JobQueries jobs;
    private final LongPoll longPoll;
    private final ApiProperties properties;
    private final ApplicationEventPublisher events;
    private final HeaderRedaction secrets;
    private final Notifier finished;

    JobController(Intake intake, JobQueries jobs, LongPoll longPoll, ApiProperties properties,
            ApplicationEventPublisher events, HeaderRedaction secrets,
            @Qualifier(DbConfiguration.FINISHED_NOTIFIER) Notifier finished) {
        this.finished = finished;
        this.intake = intake;
        this.jobs = jobs;
        this.longPoll = longPoll;
        this.properties = properties;
        this.events = events;
        this.secrets = secrets;
    }

    @Operation(summary = "Submit one job", description = "201 with the job and its Location. With an "
            + "idempotency_key already used by the same request: 200 with that job; by a different request: 409.",
            requestBody = @RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = ApiDocs.JobRequest.class),
                    examples = @ExampleObject(value = ApiDocs.JOB_EXAMPLE))))
    @ApiResponse(responseCode = "201", description = "Created")
    @ApiResponse(responseCode = "200", description = "The job this idempotency key already made")
    @ApiResponse(responseCode = "409", description = "The idempotency key is taken by a different request")
    @ApiResponse(responseCode = "413", description = "The request body is larger than fetchq.intake.max-request-size")
    @Requires(value = Scope.SUBMIT, rateLimited = true)
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JobResource> submit(@Parameter(hidden = true) HttpServletRequest request, Caller caller) {
        InsertOutcome outcome = jobs.insertOne(caller.tenant(), intake.job(intake.readBody(request)));
        return switch (outcome) {
            case InsertOutcome.Created created -> {
                events.publishEvent(new InProcessWorker.JobsSubmitted());
                yield ResponseEntity.created(URI.create("/api/v1/jobs/" + created.jobId()))
                        .body(read(created.jobId(), caller));
            }
            case InsertOutcome.Existing existing -> ResponseEntity.ok()
                    .location(URI.create("/api/v1/jobs/" + existing.jobId()))
                    .body(read(existing.jobId(), caller));
            case InsertOutcome.KeyConflict conflict -> throw new ApiProblem(HttpStatus.CONFLICT,
                    "Idempotency key reused", "idempotency_key is already used by job " + conflict.jobId()
                            + " for a different request");
        };
    }

    @Operation(summary = "Read a job", description = "With wait_ms, holds the answer until the job is final or "
            + "the time is up (at most fetchq.api.max-wait).")
    @Requires(Scope.READ)
    @GetMapping("/{id}")
    JobResource get(@PathVariable long id, @RequestParam(name = "wait_ms", required = false) Long waitMs,
            Caller caller) {
        String waitsFor = Finished.key(id, null);
        if (waitMs != null && waitMs > 0) {
            // Not this tenant's: answered at once, as a job that does not exist, rather than after the wait.
            waitsFor = Finished.key(id, read(id, caller).batchId());
        }
        return longPoll.await(waitMs, waitsFor, () -> jobs.isFinal(id), () -> jobs.getById(id, caller.visibleTenant()))
                .map(this::resource)
                .orElseThrow(() -> ApiProblem.notFound("job " + id));
    }

    @Operation(summary = "List jobs", description = "In id order, filtered by state, batch or host; keyset "
            + "paging: pass next_after_id back as after_id.")
    @Requires(Scope.READ)
    @GetMapping
    JobPage list(Caller caller,
            @RequestParam(required = false) String state,
            @RequestParam(name = "batch_id", required = false) Long batchId,
            @RequestParam(required = false) String host,
            @RequestParam(required = false) Integer limit,
            @RequestParam(name = "after_id", required = false, defaultValue = "0") long afterId) {
        List<FieldError> errors = new ArrayList<>();
        if (state != null && !JobState.CODES.contains(state)) {
            errors.add(FieldError.atParameter("state", "must be one of " + String.join(", ", JobState.CODES)));
        }
        int size = limit == null ? properties.defaultPageSize() : limit;
        if (size < 1 || size > properties.maxPageSize()) {
            errors.add(FieldError.atParameter("limit", "must be between 1 and " + properties.maxPageSize()));
        }
        if (afterId < 0) {
            errors.add(FieldError.atParameter("after_id", "must not be negative"));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors, errors.size());
        }
        String hostName = host == null ? null : host.toLowerCase(Locale.ROOT);
        List<JobResource> page = jobs.list(new JobFilter(caller.visibleTenant(), state, batchId, hostName, afterId, size))
                .stream()
                .map(this::resource)
                .toList();
        Long next = page.size() == size ? page.getLast().id() : null;
        return new JobPage(page, next);
    }

    /** A page of jobs; pass {@code next_after_id} as {@code after_id} for the next one (null at the end). */
    record JobPage(@Schema(description = "this page of jobs") List<JobResource> jobs, Long nextAfterId) {
    }

    @Operation(summary = "A job's attempts", description = "Every attempt ever made, with its timings and outcome.")
    @Requires(Scope.READ)
    @GetMapping("/{id}/attempts")
    AttemptList attempts(@PathVariable long id, Caller caller) {
        read(id, caller);
        return new AttemptList(id, jobs.attemptsOf(id));
    }

    record AttemptList(long jobId, @Schema(description = "the attempts, first to last") List<AttemptRow> attempts) {
    }

    @Operation(summary = "A job's stored body", description = "The response body as received (decoded, up to "
            + "max_body_bytes) with its content type; 404 when none was stored.")
    @ApiResponse(responseCode = "200", description = "The body", content = @Content(mediaType = "*/*"))
    @Requires(Scope.READ)
    @GetMapping("/{id}/body")
    ResponseEntity<byte[]> body(@PathVariable long id, Caller caller) {
        read(id, caller);
        StoredBody body = jobs.bodyOf(id)
                .orElseThrow(() -> new ApiProblem(HttpStatus.NOT_FOUND, "Not found", "job " + id + " has no stored body"));
        MediaType type;
        try {
            type = body.contentType() == null ? MediaType.APPLICATION_OCTET_STREAM : MediaType.parseMediaType(body.contentType());
        } catch (IllegalArgumentException e) {
            type = MediaType.APPLICATION_OCTET_STREAM;
        }
        // Someone else's page served from the API's origin: the browser must neither run it (it could
        // read the dashboard's key) nor guess another type for it.
        return ResponseEntity.ok().contentType(type)
                .header("Content-Security-Policy", "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'")
                .header("X-Content-Type-Options", "nosniff")
                .body(body.body());
    }

    @Operation(summary = "Cancel a job", description = "A queued job becomes cancelled at once; a running one at "
            + "its next step; a final one is left as it is.")
    @Requires(Scope.SUBMIT)
    @PostMapping("/{id}/cancel")
    JobResource cancel(@PathVariable long id, Caller caller) {
        JobResource job = jobs.cancel(id, caller.visibleTenant()).map(this::resource)
                .orElseThrow(() -> ApiProblem.notFound("job " + id));
        // Requests waiting for it (on any API instance) look again.
        finished.announce(List.of(Finished.key(id, job.batchId())));
        return job;
    }

    @Operation(summary = "Retry a failed or cancelled job", description = "Back in the queue with a fresh attempt "
            + "budget; 409 for a job in another state.")
    @ApiResponse(responseCode = "409", description = "The job is not failed or cancelled")
    @Requires(Scope.SUBMIT)
    @PostMapping("/{id}/retry")
    JobResource retry(@PathVariable long id, Caller caller) {
        RetryOutcome outcome = jobs.retry(id, caller.visibleTenant());
        return switch (outcome) {
            case RETRIED -> {
                events.publishEvent(new InProcessWorker.JobsSubmitted());
                yield read(id, caller);
            }
            case NOT_FOUND -> throw ApiProblem.notFound("job " + id);
            case NOT_RETRYABLE -> throw new ApiProblem(HttpStatus.CONFLICT, "Job not retryable",
                    "job " + id + " is " + read(id, caller).state() + ": only failed or cancelled jobs can be retried");
        };
    }

    /** The job, if the caller may see it; else 404, as for a job that does not exist. */
    private JobResource read(long id, Caller caller) {
        return jobs.getById(id, caller.visibleTenant()).map(this::resource)
                .orElseThrow(() -> ApiProblem.notFound("job " + id));
    }

    private JobResource resource(JobRow row) {
        return JobResource.of(row, secrets.redact(row.headers()));
    }
}
