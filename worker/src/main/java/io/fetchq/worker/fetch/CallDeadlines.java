package io.fetchq.worker.fetch;

import io.fetchq.worker.loop.BackgroundLoop;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.Call;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The timeouts of every fetch, kept by one watchdog thread that cancels calls past their deadline
 * (the job's whole-attempt {@code timeout_ms}) or silent for longer than the read timeout (no
 * progress: connection, request sent, first response byte, each body read). OkHttp's own call,
 * read and write timeouts do the same with okio's {@code AsyncTimeout}, which queues every socket
 * read and write under one process-wide lock; with thousands of fetches a second on virtual threads
 * that lock was the worker's hottest spot. Here a call is one entry in a concurrent map and its
 * progress one volatile write; the watchdog looks every {@link #RESOLUTION_MS} ms, so a timeout
 * fires up to that much late. Resolving names and opening the TCP connection are bounded by the
 * resolver and the connect timeout instead, and are not silence.
 *
 * <p>The watchdog is a {@link BackgroundLoop}: whatever one pass throws is counted and the next
 * pass goes on, and a call that cannot be cancelled does not stop the others from being looked at.
 * Each call also carries OkHttp's call timeout a little past its deadline, as a backstop.
 */
final class CallDeadlines implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CallDeadlines.class);

    /** How often the watchdog looks for calls past their deadline: the timeouts' precision. */
    static final long RESOLUTION_MS = 20;

    /** One call's deadline and silence limit, and whether the watchdog ended it. */
    static final class Watch {
        final Call call;
        final long deadlineNanos;
        final long quietNanos;
        private volatile long lastProgressNanos = System.nanoTime();
        private volatile boolean dialling;
        private volatile boolean waiting;
        volatile boolean expired;
        /** Ended for silence rather than for its deadline. */
        volatile boolean silent;

        Watch(Call call, long deadlineNanos, long quietNanos) {
            this.call = call;
            this.deadlineNanos = deadlineNanos;
            this.quietNanos = quietNanos;
        }

        /** The call moved on: its silence starts again. */
        void progress() {
            lastProgressNanos = System.nanoTime();
        }

        /** Resolving or connecting (not silence), or done with that. */
        void dialling(boolean dialling) {
            this.dialling = dialling;
            progress();
        }

        /** Waiting for memory to read the body into (not silence: the server is held back by us), or done with that. */
        void waiting(boolean waiting) {
            this.waiting = waiting;
            progress();
        }

        boolean overdue(long now) {
            if (now - deadlineNanos >= 0) {
                return true;
            }
            if (!dialling && !waiting && now - lastProgressNanos >= quietNanos) {
                silent = true;
                return true;
            }
            return false;
        }
    }

    private final Map<Watch, Boolean> watched = new ConcurrentHashMap<>();
    private final BackgroundLoop watchdog;

    /**
     * @param workerId for the watchdog's log lines
     * @param failed told of every failed pass of the watchdog
     */
    CallDeadlines(String workerId, Runnable failed) {
        watchdog = BackgroundLoop.every("call-deadlines", "fetchq-call-deadlines", workerId, failed,
                Duration.ofMillis(RESOLUTION_MS), Duration.ofMillis(RESOLUTION_MS), this::pass);
        watchdog.start();
    }

    /**
     * Cancels {@code call} once {@code deadlineNanos} ({@link System#nanoTime()}) passes or once it
     * makes no progress for {@code quietNanos}, unless released first.
     */
    Watch watch(Call call, long deadlineNanos, long quietNanos) {
        Watch w = new Watch(call, deadlineNanos, quietNanos);
        watched.put(w, Boolean.TRUE);
        return w;
    }

    void release(Watch w) {
        watched.remove(w);
    }

    /** Cancels the calls past their deadline or silent too long. */
    void pass() {
        long now = System.nanoTime();
        Throwable first = null;
        for (Watch w : watched.keySet()) {
            if (w.overdue(now)) {
                w.expired = true;
                watched.remove(w);
                try {
                    w.call.cancel();
                } catch (Throwable t) {
                    // One call that cannot be cancelled must not keep the others running past their deadlines.
                    if (first == null) {
                        first = t;
                    } else {
                        log.debug("another call could not be cancelled", t);
                    }
                }
            }
        }
        if (first instanceof Error e) {
            throw e;
        }
        if (first != null) {
            throw new IllegalStateException("a call past its deadline could not be cancelled", first);
        }
    }

    @Override
    public void close() {
        watchdog.close(Duration.ofSeconds(1));
    }
}
