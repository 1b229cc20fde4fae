package io.fetchq.api;

/**
 * Present as a bean when the API runs in the one-command mode (module {@code standalone}): with a
 * PostgreSQL of its own inside the process. Listening on loopback only, the API then serves without
 * API keys; anywhere else it needs them as always.
 *
 * @param jdbcUrl where the embedded database listens
 */
public record OneCommandMode(String jdbcUrl) {
}
