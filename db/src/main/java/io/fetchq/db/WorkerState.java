package io.fetchq.db;

import java.util.Locale;

/** The states of a worker in {@code fetchq.workers} ({@link #code()}). */
public enum WorkerState {
    /** Claiming and fetching. */
    RUNNING,
    /** Stopping: claims nothing more, finishes what it holds. */
    DRAINING,
    /** Stopped cleanly. */
    STOPPED,
    /** Stopped renewing its leases without saying goodbye; marked by another worker. */
    LOST;

    private final String code = name().toLowerCase(Locale.ROOT);

    public String code() {
        return code;
    }
}
