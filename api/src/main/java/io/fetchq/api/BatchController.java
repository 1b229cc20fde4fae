package io.fetchq.api;

import io.fetchq.api.intake.Intake;
import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.Caller;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.db.BatchQueries;
import io.fetchq.db.BatchRow;
import io.fetchq.db.DbConfiguration;
import io.fetchq.db.Finished;
import io.fetchq.db.IdempotencyKeyConflictException;
import io.fetchq.db.JobQueries;
import io.fetchq.db.JobState;
import io.fetchq.db.NewJob;
import io.fetchq.db.Notifier;
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
import java.util.stream.Collectors;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;
import tools.jackson.databind.json.JsonMapper;

/** Batches: submit many jobs at once, follow their progress, export their results, cancel them. */
@Tag(name = "Batches", description = "Submit many jobs at once, follow them, export their results, cancel them")
@RestController
@RequestMapping("/api/v1/batches")
class BatchController {

    private final Intake intake;
    private final JobQueries jobs;
    private final BatchQueries batches;
    private final LongPoll longPoll;
    private final ApplicationEventPublisher events;
    private final Notifier finished;
    /** Writes export lines; their field names are written as they are, no naming strategy. */
    private final JsonMapper json = JsonMapper.builder().build();

    BatchController(Intake intake, JobQueries jobs, BatchQueries batches, LongPoll longPoll,
            ApplicationEventPublisher events, @Qualifier(DbConfiguration.FINISHED_NOTIFIER) Notifier finished) {
        this.finished = finished;
        this.intake = intake;
        this.jobs = jobs;
        this.batches = batches;
        this.longPoll = longPoll;
        this.events = events;
    }

    @Operation(summary = "Submit a batch (JSON)", description = "All or nothing: one bad job refuses the whole "
            + "batch with 400, naming each bad index, and nothing is written. At most fetchq.intake.max-batch-jobs.",
            requestBody = @RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = ApiDocs.BatchRequest.class), examples = {
                            @ExampleObject(name = "jobs", value = ApiDocs.BATCH_JOBS_EXAMPLE),
                            @ExampleObject(name = "urls", value = ApiDocs.BATCH_URLS_EXAMPLE)})))
    @ApiResponse(responseCode = "201", description = "Created")
    @ApiResponse(responseCode = "409", description = "A job's idempotency key is already taken")
    @ApiResponse(responseCode = "413", description = "Too many jobs, or a body larger than fetchq.intake.max-request-size")
    @Requires(value = Scope.SUBMIT, rateLimited = true)
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<BatchRow> submitJson(@Parameter(hidden = true) HttpServletRequest request, Caller caller) {
        return insert(caller, intake.jsonBatch(intake.readBody(request)));
    }

    @Operation(summary = "Submit a batch (text)", description = "One URL per line; blank lines and lines starting "
            + "with # are skipped. Job fields for every job go in the query string (e.g. max_attempts=2&extract=title; "
            + "header=Name: value may repeat). A bad line refuses the batch with 400 naming each bad line.",
            requestBody = @RequestBody(required = true, content = @Content(mediaType = "text/plain",
                    schema = @Schema(type = "string"), examples = @ExampleObject(value = ApiDocs.BATCH_TEXT_EXAMPLE))))
    @ApiResponse(responseCode = "201", description = "Created")
    @Requires(value = Scope.SUBMIT, rateLimited = true)
    @PostMapping(consumes = MediaType.TEXT_PLAIN_VALUE)
    ResponseEntity<BatchRow> submitText(@Parameter(hidden = true) HttpServletRequest request, Caller caller) {
        return insert(caller, intake.textBatch(intake.readBody(request), request.getParameterMap()));
    }

    private ResponseEntity<BatchRow> insert(Caller caller, List<NewJob> batch) {
        BatchRow created;
        try {
            created = jobs.insertBatch(caller.tenant(), batch);
        } catch (IdempotencyKeyConflictException e) {
            String where = e.indexes().isEmpty() ? "" : " at jobs "
                    + e.indexes().stream().map(String::valueOf).collect(Collectors.joining(", "));
            throw new ApiProblem(HttpStatus.CONFLICT, "Idempotency key reused",
                    "idempotency_key already used by existing jobs" + where + "; nothing was inserted");
        }
        events.publishEvent(new InProcessWorker.JobsSubmitted());
        return ResponseEntity.created(URI.create("/api/v1/batches/" + created.id())).body(created);
    }

    @Operation(summary = "List batches", description = "The newest first, with their progress; pass the last id "
            + "as before_id for older ones.")
    @Requires(Scope.READ)
    @GetMapping
    List<BatchRow> list(Caller caller, @Parameter(description = "batches to list, 1 to 1000 (default 20)")
            @RequestParam(required = false, defaultValue = "20") int limit,
            @RequestParam(name = "before_id", required = false, defaultValue = "9223372036854775807") long beforeId) {
        Listings.checkLimit(limit);
        return batches.listRecent(beforeId, limit, caller.visibleTenant());
    }

    @Operation(summary = "Read a batch's progress", description = "Counts by state and done; with wait_ms, holds "
            + "the answer until the batch is done or the time is up.")
    @Requires(Scope.READ)
    @GetMapping("/{id}")
    BatchRow get(@PathVariable long id, @RequestParam(name = "wait_ms", required = false) Long waitMs,
            Caller caller) {
        // Not this tenant's: answered at once, as a batch that does not exist, rather than after the wait.
        if (waitMs != null && waitMs > 0 && !batches.exists(id, caller.visibleTenant())) {
            throw ApiProblem.notFound("batch " + id);
        }
        return longPoll.await(waitMs, Finished.batchKey(id), () -> batches.isDone(id),
                () -> batches.getById(id, caller.visibleTenant()))
                .orElseThrow(() -> ApiProblem.notFound("batch " + id));
    }

    /**
     * Every job's result, streamed as NDJSON (default) or CSV ({@code format=csv} or
     * {@code Accept: text/csv}), optionally only jobs in one {@code state} and only some {@code fields}.
     */
    @Operation(summary = "Export a batch's results", description = "One line per job in job order, streamed: NDJSON "
            + "(default) or CSV (format=csv or Accept: text/csv). state= keeps one state; fields= picks columns, "
            + "comma-separated, from the job fields (job_id, url, state, status_code, title, error_kind, ...).")
    @ApiResponse(responseCode = "200", description = "The results", content = {
            @Content(mediaType = "application/x-ndjson", examples = @ExampleObject(value =
                    "{\"job_id\":1,\"url\":\"https://example.com/\",\"state\":\"completed\",\"status_code\":200}")),
            @Content(mediaType = "text/csv", examples = @ExampleObject(value =
                    "job_id,url,state,status_code\r\n1,https://example.com/,completed,200\r\n"))})
    @Requires(Scope.READ)
    @GetMapping("/{id}/results")
    ResponseEntity<StreamingResponseBody> results(@PathVariable long id, Caller caller,
            @RequestParam(required = false) String state, @RequestParam(required = false) String fields,
            @RequestParam(required = false) String format,
            @RequestHeader(name = HttpHeaders.ACCEPT, required = false) String accept) {
        List<FieldError> errors = new ArrayList<>();
        if (state != null && !JobState.CODES.contains(state)) {
            errors.add(FieldError.atParameter("state", "must be one of " + String.join(", ", JobState.CODES)));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors, errors.size());
        }
        ResultExport export = ResultExport.of(fields, format, accept);
        if (!batches.exists(id, caller.visibleTenant())) {
            throw ApiProblem.notFound("batch " + id);
        }
        StreamingResponseBody body = out -> {
            try (ResultExport.Writing writing = export.new Writing(out, json)) {
                jobs.forEachResult(id, state, writing::write);
            }
        };
        ResponseEntity.BodyBuilder response = ResponseEntity.ok().header(HttpHeaders.CONTENT_TYPE, export.mediaType());
        if (export.format() == ResultExport.Format.CSV) {
            response.header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"batch-" + id + "-results.csv\"");
        }
        return response.body(body);
    }

    @Operation(summary = "Cancel a batch", description = "Its queued jobs become cancelled at once, running ones at "
            + "their next step; final ones are left as they are.")
    @Requires(Scope.SUBMIT)
    @PostMapping("/{id}/cancel")
    BatchRow cancel(@PathVariable long id, Caller caller) {
        BatchRow batch = batches.cancel(id, caller.visibleTenant()).orElseThrow(() -> ApiProblem.notFound("batch " + id));
        // Requests waiting for it (on any API instance) look again.
        finished.announce(List.of(Finished.batchKey(id)));
        return batch;
    }
}
