package io.fetchq.api;

import io.fetchq.api.intake.Intake;
import io.fetchq.api.problem.ApiProblem;
import io.fetchq.db.BatchQueries;
import io.fetchq.db.BatchRow;
import io.fetchq.db.IdempotencyKeyConflictException;
import io.fetchq.db.JobQueries;
import io.fetchq.db.NewJob;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.List;
import java.util.stream.Collectors;
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

/** Batches: submit many jobs at once, follow their progress, cancel them. */
@RestController
@RequestMapping("/api/v1/batches")
class BatchController {

    private final Intake intake;
    private final JobQueries jobs;
    private final BatchQueries batches;
    private final LongPoll longPoll;
    private final ApplicationEventPublisher events;

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

    @PostMapping("/{id}/cancel")
    BatchRow cancel(@PathVariable long id) {
        return batches.cancel(id).orElseThrow(() -> ApiProblem.notFound("batch " + id));
    }
}
