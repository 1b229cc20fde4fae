package io.fetchq.api;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import java.util.Map;

/**
 * Request bodies as the OpenAPI description shows them. Intake reads bodies itself (to name every
 * bad field, line and index at once), so these records only describe what it accepts.
 */
final class ApiDocs {

    private ApiDocs() {
    }

    static final String JOB_EXAMPLE = """
            {"url": "https://example.com/", "method": "GET", "headers": {"Accept": "text/html"},
             "priority": 5, "max_attempts": 3, "timeout_ms": 30000, "extract": ["title", "links"],
             "idempotency_key": "example-home", "metadata": {"source": "docs"}}""";

    static final String BATCH_JOBS_EXAMPLE = """
            {"defaults": {"max_attempts": 5, "metadata": {"crawl": "c1"}},
             "jobs": [{"url": "https://example.com/a"}, {"url": "https://example.org/b", "priority": 9}]}""";

    static final String BATCH_URLS_EXAMPLE = """
            {"urls": ["https://example.com/1", "https://example.com/2"]}""";

    static final String BATCH_TEXT_EXAMPLE = """
            https://example.com/x
            # a comment
            https://example.net/y
            """;

    @Schema(name = "JobRequest", description = "A job to run; every field but url is optional. Unknown fields are refused.")
    record JobRequest(
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED) String url,
            String method,
            Map<String, String> headers,
            String body,
            String bodyBase64,
            Integer priority,
            String runAt,
            Long delayMs,
            Integer maxAttempts,
            Integer timeoutMs,
            Integer maxBodyBytes,
            Boolean storeBody,
            Boolean followRedirects,
            List<String> extract,
            Boolean conditional,
            String robots,
            String idempotencyKey,
            Map<String, Object> metadata) {
    }

    @Schema(name = "BatchRequest", description = "Many jobs at once, all or nothing: jobs, or urls, with shared defaults")
    record BatchRequest(
            @Schema(description = "fields every job gets unless it sets them (all but url and idempotency_key); "
                    + "headers and metadata merge key by key") JobRequest defaults,
            @Schema(description = "the batch's jobs, each with at least a url") List<JobRequest> jobs,
            List<String> urls) {
    }

    @Schema(name = "KeyRequest", description = "An API key to create. Unknown fields are refused.")
    record KeyRequest(
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED) String tenant,
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED) List<String> scopes,
            String name) {
    }

    @Schema(name = "HostSettings", description = "An admin's settings of a host, for every worker: any subset; null "
            + "returns a field to the workers' configured default. Unknown fields are refused.")
    record HostSettings(
            @Schema(description = "requests in flight to the host from all workers together, 1 to 100000",
                    nullable = true) Integer maxInFlight,
            @Schema(description = "requests per second to the host from all workers together, above 0",
                    nullable = true) Double ratePerS,
            @Schema(description = "no request to the host before this time (RFC 3339); null resumes it",
                    nullable = true) java.time.OffsetDateTime pausedUntil) {
    }
}
