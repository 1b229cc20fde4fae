package io.fetchq.worker.fetch;

/**
 * Stops one fetch from another thread (a worker whose shutdown grace is over): the request in
 * flight is cancelled at once and no further redirect hop is made. The fetch then ends as a
 * {@link ErrorKind#CANCELLED} failure.
 */
public final class FetchCancellation {

    private volatile boolean cancelled;
    private volatile Runnable onCancel;

    public void cancel() {
        cancelled = true;
        Runnable r = onCancel;
        if (r != null) {
            r.run();
        }
    }

    public boolean cancelled() {
        return cancelled;
    }

    /** What cancelling does now (cancel the current request); runs at once if already cancelled. */
    void onCancel(Runnable action) {
        onCancel = action;
        if (cancelled) {
            action.run();
        }
    }
}
