package io.fetchq.db.testing;

import io.fetchq.db.JobQueries;
import io.fetchq.db.NewJob;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A job as the API would store it — GET, 3 attempts, due now, 10 s timeout, 1 MiB cap, body kept,
 * redirects followed, title and links extracted, host from the URL — with overrides; submitted
 * through {@link JobQueries#insertOne(NewJob)}.
 */
public final class JobBuilder {

    private boolean robots;

    private final String url;
    private final JobQueries jobs;
    private String method = "GET";
    private String headers;
    private byte[] body;
    private int priority;
    private Instant runAt;
    private long delayMs;
    private int maxAttempts = 3;
    private int timeoutMs = 10_000;
    private int maxBodyBytes = 1 << 20;
    private boolean follow = true;
    private boolean conditional;
    private String idempotencyKey;
    private byte[] requestHash;
    private String metadata;

    public JobBuilder(String url, JobQueries jobs) {
        this.url = url;
        this.jobs = jobs;
    }

    public JobBuilder priority(int p) {
        priority = p;
        return this;
    }

    public JobBuilder runAt(Instant t) {
        runAt = t;
        return this;
    }

    public JobBuilder delay(Duration d) {
        delayMs = d.toMillis();
        return this;
    }

    public JobBuilder maxAttempts(int n) {
        maxAttempts = n;
        return this;
    }

    public JobBuilder timeoutMs(int ms) {
        timeoutMs = ms;
        return this;
    }

    public JobBuilder maxBodyBytes(int n) {
        maxBodyBytes = n;
        return this;
    }

    public JobBuilder conditional() {
        conditional = true;
        return this;
    }

    /** The job obeys its origin's robots.txt. */
    public JobBuilder obeyRobots() {
        robots = true;
        return this;
    }

    public JobBuilder noRedirects() {
        follow = false;
        return this;
    }

    public JobBuilder headers(String json) {
        headers = json;
        return this;
    }

    /** A POST of {@code text}. */
    public JobBuilder post(String text) {
        method = "POST";
        body = text.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    public JobBuilder metadata(String json) {
        metadata = json;
        return this;
    }

    /** An idempotency key, with the request's hash standing for the request. */
    public JobBuilder idempotencyKey(String key, String request) {
        idempotencyKey = key;
        requestHash = request.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    public NewJob build() {
        return new NewJob(url, URI.create(url).getHost(), method, headers, body, priority, runAt, delayMs, maxAttempts,
                timeoutMs, maxBodyBytes, true, follow, List.of("title", "links"), conditional, idempotencyKey, requestHash,
                metadata, robots);
    }

    /** Inserts the job; its id. */
    public long submit() {
        return jobs.insertOne(build()).jobId();
    }
}
