package io.fetchq.api.security;

/**
 * Whether the API serves callers without a key, decided once at startup.
 *
 * @param open callers without a key are served as {@link Caller#ANONYMOUS}
 * @param why the reason, as the startup log states it
 */
public record SecurityMode(boolean open, String why) {
}
