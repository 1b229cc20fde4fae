package io.fetchq.api.problem;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.List;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Every error as RFC 9457 {@code application/problem+json}. Spring's own request errors (unknown
 * route, wrong method, unsupported media type, bad path variable) are handled by the base class.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> apiProblem(ApiProblem problem, HttpServletRequest request) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(problem.status(), problem.getMessage());
        body.setTitle(problem.title());
        body.setInstance(URI.create(request.getRequestURI()));
        if (!problem.errors().isEmpty()) {
            body.setProperty("errors", problem.errors());
            body.setProperty("error_count", problem.errorCount());
        }
        ResponseEntity.BodyBuilder response = ResponseEntity.status(problem.status())
                .contentType(MediaType.APPLICATION_PROBLEM_JSON);
        problem.headers().forEach(response::header);
        return response.body(body);
    }

    @ExceptionHandler({CannotGetJdbcConnectionException.class, DataAccessResourceFailureException.class,
            TransientDataAccessException.class, CannotCreateTransactionException.class})
    ResponseEntity<ProblemDetail> databaseUnavailable(Exception e, HttpServletRequest request) {
        log.warn("Database unavailable serving {} {}: {}", request.getMethod(), request.getRequestURI(), e.toString());
        return unavailable("the database is unavailable; nothing was changed, try again later");
    }

    /**
     * A read the server cancelled past {@code fetchq.db.read-timeout} (or any statement past
     * {@code fetchq.db.statement-timeout}): the database is up, this request asked too much of it.
     */
    @ExceptionHandler(QueryTimeoutException.class)
    ResponseEntity<ProblemDetail> tooSlow(QueryTimeoutException e, HttpServletRequest request) {
        log.warn("Query timed out serving {} {}: {}", request.getMethod(), request.getRequestURI(), e.toString());
        return unavailable("the database did not answer this request within its time limit (fetchq.db.read-timeout"
                + " for reads, fetchq.db.statement-timeout for any statement); nothing was changed; try again later,"
                + " or narrow the request");
    }

    /** {@code 503} with {@code Retry-After}: the request may succeed later as it is. */
    private static ResponseEntity<ProblemDetail> unavailable(String detail) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE, detail);
        body.setTitle("Service unavailable");
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                .header("Retry-After", "5")
                .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(body);
    }

    /** A query string the servlet container cannot split into parameters (e.g. {@code ?=x}). */
    @ExceptionHandler(InvalidParameterException.class)
    ResponseEntity<ProblemDetail> badQueryString(InvalidParameterException e, HttpServletRequest request) {
        return apiProblem(ApiProblem.invalid(List.of(FieldError.atParameter("",
                "the query string cannot be read: " + e.getMessage())), 1), request);
    }

    /** A query parameter that is not of its type ({@code limit=abc}): named, like every other bad parameter. */
    @Override
    protected ResponseEntity<Object> handleTypeMismatch(TypeMismatchException e, HttpHeaders headers, HttpStatusCode status,
            WebRequest request) {
        String name = e instanceof MethodArgumentTypeMismatchException m ? m.getName() : e.getPropertyName();
        Class<?> type = e.getRequiredType();
        String expected = type != null && (Number.class.isAssignableFrom(type) || type.isPrimitive())
                ? "must be a whole number" : "is not valid here";
        ResponseEntity<ProblemDetail> problem = apiProblem(ApiProblem.invalid(
                List.of(FieldError.atParameter(name == null ? "" : name, expected)), 1),
                ((ServletWebRequest) request).getRequest());
        return ResponseEntity.status(problem.getStatusCode()).headers(problem.getHeaders()).body(problem.getBody());
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e, HttpServletRequest request) {
        log.error("Unexpected error serving {} {}", request.getMethod(), request.getRequestURI(), e);
        ProblemDetail body = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
                "an unexpected error occurred; it has been logged");
        body.setTitle("Internal error");
        return respond(HttpStatus.INTERNAL_SERVER_ERROR, body);
    }

    private static ResponseEntity<ProblemDetail> respond(HttpStatus status, ProblemDetail body) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(body);
    }
}
