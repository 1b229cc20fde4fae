package io.fetchq.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What every field of the REST API means, by its JSON name, with an example: the one place the
 * OpenAPI description takes field documentation from (a test fails if a field has none).
 */
final class ApiFields {

    record Field(String description, Object example) {
    }

    static final Map<String, Field> FIELDS = new LinkedHashMap<>();

    private static void field(String name, String description, Object example) {
        FIELDS.put(name, new Field(description, example));
    }

    static {
        // A job's request.
        field("url", "http or https URL, at most 2,083 characters; stored normalised", "https://example.com/");
        field("method", "GET (default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS", "GET");
        field("headers", "request headers, name to value; framing headers are fetchq's own. Values of secret "
                + "headers (fetchq.fetch.secret-headers: Authorization, Cookie, ...) are used for the fetch and "
                + "read back as [redacted]", Map.of("Accept", "text/html"));
        field("body", "request body as text (not with GET or HEAD)", "{\"q\": 1}");
        field("body_base64", "request body as base64 (not with GET or HEAD)", "eyJxIjogMX0=");
        field("priority", "-1,000 to 1,000 (fetchq.intake.max-priority), higher runs first; default 0", 5);
        field("run_at", "RFC 3339 time of the first attempt", "2026-12-01T08:00:00Z");
        field("delay_ms", "delay of the first attempt, in milliseconds", 60000);
        field("max_attempts", "attempts allowed, 1 to 25; default 3", 3);
        field("timeout_ms", "time allowed for the whole call of one attempt; default 60,000", 30000);
        field("max_body_bytes", "response bytes kept, the rest cut (body_truncated); default 1 MiB", 1048576);
        field("store_body", "keep the response body; default true", true);
        field("follow_redirects", "follow up to 10 redirects, each checked; default true", true);
        field("extract", "what to extract from HTML: title, links", java.util.List.of("title"));
        field("conditional", "a GET that watches its URL: it sends If-None-Match (the URL's last ETag) or else "
                + "If-Modified-Since from the last conditional 200 of the URL in the tenant, keeps that body on a 304, "
                + "and says whether the body changed; default false, true for a schedule's GETs", true);
        field("robots", "obey: fetched only where its origin's robots.txt allows (else failed, error_kind robots); "
                + "ignore: the default for a job, obey for a crawl", "obey");
        field("idempotency_key", "makes a submit safe to repeat: same key and request answer the same job", "page-42");
        field("metadata", "any JSON object up to 8 KiB, stored for your own queries", Map.of("crawl", "c1"));
        field("defaults", "fields applied to every job of the batch that does not set them", Map.of("max_attempts", 5));
        field("jobs", "the batch's jobs, each with at least a url", null);
        field("urls", "the batch's URLs, each one job with the defaults", java.util.List.of("https://example.com/1"));
        // A job as read.
        field("id", "identifier", 42);
        field("job_id", "the job's identifier", 42);
        field("batch_id", "the batch the job was submitted in, or null", 7);
        field("host", "the URL's host, lower-case", "example.com");
        field("state", "a job: queued, running, completed, failed or cancelled; a webhook delivery: pending, "
                + "delivered or failed", "completed");
        field("attempts", "a job: attempts made in the current budget (after a retry it counts again from 0); a "
                + "webhook delivery: its attempts, first to last", 1);
        field("next_attempt_at", "when a queued job is due; when a webhook delivery is sent again", "2026-12-01T08:00:00Z");
        field("created_at", "when it was submitted (a webhook attempt: when it started)", "2026-11-25T16:00:00Z");
        field("started_at", "when its first attempt started", "2026-11-25T16:00:01Z");
        field("finished_at", "when it reached its final state", "2026-11-25T16:00:02Z");
        field("result", "the outcome of the final (or latest) attempt; null until there is one", null);
        field("status_code", "HTTP status of the response (a webhook attempt: of the endpoint's answer)", 200);
        field("content_type", "Content-Type of the response", "text/html; charset=utf-8");
        field("body_bytes", "response body size after decoding, up to max_body_bytes", 2048);
        field("body_truncated", "the body was longer than max_body_bytes", false);
        field("body_sha256", "SHA-256 of the stored body, hex", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
        field("title", "the HTML title, when extract has title", "Example Domain");
        field("links", "absolute links of the page, when extract has links", java.util.List.of("https://example.org/"));
        field("final_url", "the URL that answered, after redirects", "https://www.example.com/");
        field("error_kind", "why it failed: dns, connect, tls, timeout, reset, http_status, too_many_redirects, "
                + "blocked, protocol, circuit_open, lease_expired, cancelled, robots", "timeout");
        field("error_message", "the error in words", "timed out after 30000 ms");
        field("total_ms", "duration of the attempt, in milliseconds", 120);
        field("etag", "the response's ETag", "\"33a64df5\"");
        field("last_modified", "the response's Last-Modified", "2026-11-25T15:00:00Z");
        field("not_modified", "the response was a 304: the URL's earlier body (and its hash, size and extracted fields) "
                + "is the result's; null unless completed", false);
        field("changed", "the body's SHA-256 differs from the previous 200 of this URL in the tenant; false when "
                + "equal or a 304, null on the first fetch, for responses other than 200 and 304, and for jobs that are "
                + "not conditional", true);
        field("next_after_id", "pass as after_id for the next page; null on the last", 142);
        // A batch.
        field("total", "jobs in the batch", 100000);
        field("queued", "jobs waiting", 10);
        field("running", "jobs being fetched", 5);
        field("completed", "jobs with a response", 99980);
        field("failed", "jobs that gave up", 5);
        field("cancelled", "jobs cancelled", 0);
        field("done", "every job is final", false);
        // A crawl.
        field("seeds", "the URLs a crawl starts from (depth 0, not filtered), at most 10,000",
                java.util.List.of("https://docs.example.com/"));
        field("scope", "which links a crawl follows: same-origin, same-host (default) or same-site (registrable "
                + "domain by the Public Suffix List, its private part included)", "same-host");
        field("include", "regexes a link's normalised URL must match one of (searched), if any",
                java.util.List.of("/docs/"));
        field("exclude", "regexes a link's normalised URL must match none of", java.util.List.of("\\.pdf$"));
        field("max_depth", "links of pages at this depth are not followed (seeds are 0); default 3", 3);
        field("max_pages", "pages a crawl enqueues at most, seeds included; default 1,000, at most 1,000,000", 1000);
        field("max_pages_per_host", "pages a crawl enqueues at most per host", 200);
        field("sitemaps", "read the sitemaps the seeds' robots.txt names (and the sitemaps they list): their URLs "
                + "are links of depth 1; default false", true);
        field("discovered", "links read (every link of every page read, and the seeds)", 5400);
        field("enqueued", "pages enqueued, seeds included", 1000);
        field("fetched", "pages (and sitemaps) with a response", 980);
        field("skipped_scope", "links outside the scope, include or exclude, or refused by the URL policy", 2100);
        field("skipped_robots", "links robots.txt refuses", 40);
        field("skipped_duplicate", "links to a page already enqueued", 2000);
        field("skipped_limit", "links past max_pages, max_pages_per_host or max_depth", 200);
        field("skipped_nofollow", "links marked nofollow (rel, meta robots, X-Robots-Tag)", 60);
        field("crawl_id", "the crawl the page belongs to, or null", 3);
        field("depth", "the page's depth in its crawl (seeds are 0)", 1);
        field("parent_job_id", "the page whose link enqueued it", 41);
        // An attempt.
        field("attempt", "the attempt's number over the job's whole life, from 1", 1);
        field("worker_id", "the worker that made it", "host-1234-ab");
        field("dns_ms", "time resolving the host", 3);
        field("connect_ms", "time connecting (TCP)", 2);
        field("tls_ms", "time of the TLS handshake", 15);
        field("ttfb_ms", "time to the first byte of the response", 80);
        field("remote_ip", "the address that answered", "93.184.216.34");
        field("redirects", "the redirect chain: each hop's URL and status", null);
        field("tenant", "whose it is: jobs and batches belong to the tenant of the key that submitted them",
                "acme");
        // API keys.
        field("key", "the API key itself, only in the answer that created it: keep it now, it is never shown again",
                "fq_3q2-Xh0a9KfB1V5mQ8dZcT7wLrY4uE6sN2pJ0iGkA1o");
        field("prefix", "the key's first characters, to tell keys apart", "fq_3q2-Xh0a");
        field("scopes", "what the key may do: submit, read, admin (admin: everything, every tenant)",
                java.util.List.of("submit", "read"));
        field("name", "what the key or schedule is for", "nightly crawl");
        field("last_used_at", "when the key was last used (to the minute)", "2026-11-25T16:00:00Z");
        field("revoked_at", "when the key was revoked; null while it works", null);
        field("keys", "every key, newest first", null);
        // Schedules.
        field("cron", "when a schedule runs: 5 fields (minute hour day-of-month month day-of-week) read in time_zone, "
                + "POSIX day rule, or @hourly, @daily, @weekly, @monthly, @yearly; null when it runs by every",
                "*/15 8-18 * * 1-5");
        field("every", "when a schedule runs: an ISO-8601 duration from PT1S to P366D, on a grid from its creation "
                + "(the first run at creation); null when it runs by cron", "PT15M");
        field("time_zone", "the IANA time zone its cron is read in (default UTC); across daylight-saving changes a "
                + "skipped time runs when the clock has jumped, and a repeated hour runs once unless the hour field is *",
                "Europe/Berlin");
        field("catch_up", "runs missed while nothing ran schedules: skip (default: go on at the next time), one (one "
                + "run for them all), all (each, at most the latest 100)", "skip");
        field("next_run_at", "the schedule's next nominal time; null while paused", "2026-11-25T16:15:00Z");
        field("last_run_at", "nominal time of the schedule's latest run", "2026-11-25T16:00:00Z");
        field("last_batch_id", "the batch of the schedule's latest run", 42);
        field("job_count", "jobs in each of the schedule's runs", 2);
        field("schedule_id", "the schedule this batch is a run of; null for a batch submitted as one", 7);
        field("nominal_time", "the time of the schedule this run is for (a manual run: when it was asked for); "
                + "null for a batch submitted as one", "2026-11-25T16:00:00Z");
        // Webhooks.
        field("events", "the event types an endpoint receives: batch.completed, job.failed, job.changed, "
                + "schedule.run_completed", java.util.List.of("batch.completed", "job.failed"));
        field("description", "what the endpoint is for", "alerts to the on-call channel");
        field("secret", "the signing secret (whsec_ + base64), only in the answer that created the endpoint: keep it "
                + "now, it is never shown again", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        field("disabled", "nothing is sent to the endpoint: it answered 410 Gone, failed for "
                + "fetchq.webhooks.disable-after (5 days), or was disabled by request", false);
        field("disabled_at", "when the endpoint was disabled; null while enabled", null);
        field("disabled_reason", "why the endpoint was disabled", "the endpoint answered 410 Gone");
        field("webhook_id", "the endpoint a delivery goes to", 3);
        field("event_id", "the event delivered: the webhook-id header is evt_ and this id, the same on every attempt",
                1042);
        field("event_type", "batch.completed, job.failed, job.changed or schedule.run_completed", "batch.completed");
        field("delivered_at", "when an attempt got a 2xx; null until then", "2026-11-25T16:00:03Z");
        field("error", "why an attempt failed: the status it got, or what went wrong", "HTTP 503");
        // Stats.
        field("oldest_due_age_ms", "how long the oldest due job has waited to be claimed (the lag)", 250);
        field("completions_per_second", "jobs that reached a final state per second, over the last minute", 812.5);
        field("workers", "workers by state (running, draining, stopped, lost)", Map.of("running", 4));
        field("live_workers", "workers running or draining", 4);
        field("as_of", "when these figures were read", "2026-11-25T16:00:00Z");
        field("failures_last_hour", "jobs failed in the last hour, by error kind", Map.of("timeout", 12));
        field("breaker_open", "this host's circuit breaker is open or half-open, for every worker", false);
        field("finished", "jobs of this host finished in the last 15 minutes", 120);
        field("paused", "a host: every worker holds it back until paused_until (its Retry-After, or an admin); a "
                + "schedule: it makes no runs, and skips those it misses, until resumed", false);
        // Hosts: the ledger every worker obeys.
        field("max_in_flight", "most requests in flight to the host from all workers together: an admin's setting, "
                + "else the workers' configured per-host (null until a worker has taken a share of it)", 8);
        field("rate_per_s", "most requests per second to the host from all workers together; null: none", 2.5);
        field("in_flight", "requests in flight to the host from all workers, as they last reported (about every "
                + "second while busy)", 6);
        field("paused_until", "no worker sends the host a request before this time (its Retry-After, or an admin); "
                + "null when not paused", "2026-11-25T16:05:00Z");
        field("breaker", "the host's circuit breaker for the whole fleet: closed, open (no requests until "
                + "open_until) or half_open (one worker making trial calls)", "closed");
        field("open_until", "when an open breaker lets trial calls through; null unless open", null);
        field("crawl_delay_ms", "the Crawl-delay of the host's robots.txt, in milliseconds; null when none", null);
        field("oldest_due_at", "when the host's oldest due job came due; null when none is due",
                "2026-11-25T16:00:00Z");
        field("stuck", "due jobs have waited past fetchq.api.stuck-host-after, none is running, and no worker holds the "
                + "host back (breaker, Retry-After): a fault to look into", false);
        field("stuck_hosts", "hosts that are stuck: due jobs waiting past fetchq.api.stuck-host-after, none running, "
                + "nothing holding them back", 0);
        // A parsed URL.
        field("input", "the URL as given", "HTTP://Example.COM:80/a/../b");
        field("scheme", "http or https", "http");
        field("port", "the port, default ones included", 80);
        field("path", "the normalised path", "/b");
        field("query", "the query, without ?", "x=1");
        field("allowed", "whether fetchq would fetch it", true);
        field("reason", "why not, when not allowed", "127.0.0.1 is in a blocked range (loopback)");
    }

    /** What every query parameter and path variable means, by name. */
    static final Map<String, String> PARAMETERS = Map.ofEntries(
            Map.entry("id", "the identifier of the job, batch, schedule or webhook"),
            Map.entry("wait_ms", "hold the answer until the job or batch is final, at most this many milliseconds "
                    + "(capped at fetchq.api.max-wait)"),
            Map.entry("state", "only jobs in this state: queued, running, completed, failed or cancelled"),
            Map.entry("batch_id", "only jobs of this batch"),
            Map.entry("host", "only jobs of this host"),
            Map.entry("limit", "jobs per page, 1 to fetchq.api.max-page-size (default fetchq.api.default-page-size)"),
            Map.entry("after_id", "the page after this job id (next_after_id of the previous page); default 0"),
            Map.entry("fields", "comma-separated fields to export, in this order; default all"),
            Map.entry("format", "ndjson (default) or csv; without it, Accept: text/csv chooses CSV"),
            Map.entry("Accept", "text/csv for CSV when format is not given"),
            Map.entry("url", "the URL to parse"),
            Map.entry("before_id", "only batches or deliveries with a smaller id (the last id of the previous page)"),
            Map.entry("deliveryId", "the delivery's identifier"));

    private ApiFields() {
    }
}
