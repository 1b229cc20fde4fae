package io.fetchq.worker.fetch;

/** Why an attempt failed, as recorded in {@code error_kind}. The names are a public contract. */
public enum ErrorKind {
    DNS, CONNECT, TLS, TIMEOUT, RESET, HTTP_STATUS, TOO_MANY_REDIRECTS, BLOCKED, PROTOCOL, CIRCUIT_OPEN,
    LEASE_EXPIRED, CANCELLED, ROBOTS;

    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
