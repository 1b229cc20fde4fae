package io.fetchq.api.security;

/**
 * Whether the API serves callers without a key, decided once at startup.
 *
 * @param open callers without a key are served as {@link Caller#ANONYMOUS}
 * @param loopbackOnly open because the one-command mode listens on loopback only: then a request
 *     without a key must also name a loopback host, so that a web page elsewhere cannot reach the
 *     API through a name it rebinds to 127.0.0.1
 * @param why the reason, as the startup log states it
 */
public record SecurityMode(boolean open, boolean loopbackOnly, String why) {
}
