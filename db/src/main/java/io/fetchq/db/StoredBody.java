package io.fetchq.db;

/** A job's stored response body, from {@code fetchq.job_bodies}. */
public record StoredBody(String contentType, byte[] body) {
}
