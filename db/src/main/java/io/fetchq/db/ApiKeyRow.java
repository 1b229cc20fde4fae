package io.fetchq.db;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * An API key as listed: everything but its hash. {@code key} holds the plaintext only in the answer
 * that created it, null everywhere else.
 */
public record ApiKeyRow(
        long id,
        String key,
        String prefix,
        String tenant,
        List<String> scopes,
        String name,
        OffsetDateTime createdAt,
        OffsetDateTime lastUsedAt,
        OffsetDateTime revokedAt) {
}
