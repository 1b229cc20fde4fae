package io.fetchq.api;

import io.fetchq.api.intake.Intake;
import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import io.fetchq.db.BatchQueries;
import io.fetchq.db.BatchRow;
import io.fetchq.db.IdempotencyKeyConflictException;
import io.fetchq.db.JobQueries;
import io.fetchq.db.JobState;
import io.fetchq.db.NewJob;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;
import tools.jackson.databind.json.JsonMapper;

/** Batches: submit many jobs at once, follow their progress, export their results, cancel them. */
@RestController
@RequestMapping("/api/v1/batches")
class BatchController {

    private final Intake intake;
    private final JobQueries jobs;
    private final BatchQueries batches;
    private final LongPoll longPoll;
    private final ApplicationEventPublisher events;
    /** Writes export lines; their field names are written as they are, no naming strategy. */
    private final JsonMapper json = JsonMapper.builder().build();

    BatchController(Intake intake, JobQueries jobs, BatchQueries batches, LongPoll longPoll,
            ApplicationEventPublisher events) {
        this.intake = intake;
        this.jobs = jobs;
        this.batches = batches;
        this.longPoll = longPoll;
        this.events = events;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<BatchRow> submitJson(HttpServletRequest request) {
        return insert(intake.jsonBatch(intake.readBody(request)));
    }

    @PostMapping(consumes = MediaType.TEXT_PLAIN_VALUE)
    ResponseEntity<BatchRow> submitText(HttpServletRequest request) {
        return insert(intake.textBatch(intake.readBody(request), request.getParameterMap()));
    }

    private ResponseEntity<BatchRow> insert(List<NewJob> batch) {
        BatchRow created;
        try {
            created = jobs.insertBatch(batch);
        } catch (IdempotencyKeyConflictException e) {
            String where = e.indexes().isEmpty() ? "" : " at jobs "
                    + e.indexes().stream().map(String::valueOf).collect(Collectors.joining(", "));
            throw new ApiProblem(HttpStatus.CONFLICT, "Idempotency key reused",
                    "idempotency_key already used by existing jobs" + where + "; nothing was inserted");
        }
        events.publishEvent(new InProcessWorker.JobsSubmitted());
        return ResponseEntity.created(URI.create("/api/v1/batches/" + created.id())).body(created);
    }

    @GetMapping("/{id}")
    BatchRow get(@PathVariable long id, @RequestParam(name = "wait_ms", required = false) Long waitMs) {
        return longPoll.await(waitMs, () -> batches.isDone(id), () -> batches.getById(id))
                .orElseThrow(() -> ApiProblem.notFound("batch " + id));
    }

    /**
     * Every job's result, streamed as NDJSON (default) or CSV ({@code format=csv} or
     * {@code Accept: text/csv}), optionally only jobs in one {@code state} and only some {@code fields}.
     */
    @GetMapping("/{id}/results")
    ResponseEntity<StreamingResponseBody> results(@PathVariable long id,
            @RequestParam(required = false) String state, @RequestParam(required = false) String fields,
            @RequestParam(required = false) String format,
            @RequestHeader(name = HttpHeaders.ACCEPT, required = false) String accept) {
        List<FieldError> errors = new ArrayList<>();
        if (state != null && !JobState.ALL.contains(state)) {
            errors.add(FieldError.atParameter("state", "must be one of " + String.join(", ", JobState.ALL)));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors, errors.size());
        }
        ResultExport export = ResultExport.of(fields, format, accept);
        if (batches.getById(id).isEmpty()) {
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

    @PostMapping("/{id}/cancel")
    BatchRow cancel(@PathVariable long id) {
        return batches.cancel(id).orElseThrow(() -> ApiProblem.notFound("batch " + id));
    }
}
