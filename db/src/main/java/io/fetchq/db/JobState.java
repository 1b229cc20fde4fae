package io.fetchq.db;

import java.util.List;

/** The states of a job, as they appear in the public views. */
public final class JobState {

    public static final String QUEUED = "queued";
    public static final String RUNNING = "running";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";
    public static final String CANCELLED = "cancelled";

    public static final List<String> ALL = List.of(QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED);

    private JobState() {
    }
}
