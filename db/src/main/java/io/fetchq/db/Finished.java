package io.fetchq.db;

/**
 * The "jobs finished" notifications that wake requests waiting with {@code wait_ms}: sent by workers
 * after their results commit (and by the API after a cancel), coalesced, on {@link #CHANNEL}. Each
 * names what finished: {@code b<batch id>} for a job of a batch, {@code j<job id>} for a job of
 * none ({@link Notifier#ANYTHING} when too much finished to name).
 */
public final class Finished {

    /** The channel of "jobs finished" notifications. */
    public static final String CHANNEL = "fetchq_done";

    /** What a request waiting for this job waits to hear: its batch's key, or its own when it has none. */
    public static String key(long jobId, Long batchId) {
        return batchId == null ? "j" + jobId : batchKey(batchId);
    }

    public static String batchKey(long batchId) {
        return "b" + batchId;
    }

    private Finished() {
    }
}
