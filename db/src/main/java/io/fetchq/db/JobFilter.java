package io.fetchq.db;

/** Criteria of a keyset-paged job listing; null means any (a null {@code tenant}: every tenant's). */
public record JobFilter(String tenant, String state, Long batchId, String host, long afterId, int limit) {
}
