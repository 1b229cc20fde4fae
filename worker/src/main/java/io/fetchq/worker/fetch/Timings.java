package io.fetchq.worker.fetch;

/**
 * Where an attempt's time went, in milliseconds, summed over its redirect hops; null where the
 * phase did not happen (a reused connection has no DNS, connect or TLS time).
 */
public record Timings(Integer dnsMs, Integer connectMs, Integer tlsMs, Integer ttfbMs, int totalMs, String remoteIp) {
}
