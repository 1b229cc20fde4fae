package io.fetchq.db;

/** Criteria of a keyset-paged job listing; null means any. */
public record JobFilter(String state, Long batchId, String host, long afterId, int limit) {
}
