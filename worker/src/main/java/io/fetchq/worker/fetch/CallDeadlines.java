package io.fetchq.worker.fetch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;

/**
 * The whole-attempt timeout of every fetch, kept by one watchdog thread that cancels calls past
 * their deadline. OkHttp's own call timeout does the same with okio's {@code AsyncTimeout}, whose
 * one process-wide lock every call takes on entering and leaving; with thousands of fetches a
 * second on virtual threads that lock was the worker's hottest spot. Here a call is one entry in a
 * concurrent map, and the watchdog looks every {@link #RESOLUTION_MS} ms, so a timeout fires up to
 * that much late.
 */
final class CallDeadlines implements AutoCloseable {

    /** How often the watchdog looks for calls past their deadline: the timeouts' precision. */
    static final long RESOLUTION_MS = 20;

    /** One call's deadline, and whether the watchdog ended it. */
    static final class Watch {
        final Call call;
        final long deadlineNanos;
        volatile boolean expired;

        Watch(Call call, long deadlineNanos) {
            this.call = call;
            this.deadlineNanos = deadlineNanos;
        }
    }

    private final Map<Watch, Boolean> watched = new ConcurrentHashMap<>();
    private final Thread watchdog;
    private volatile boolean running = true;

    CallDeadlines() {
        watchdog = Thread.ofPlatform().name("fetchq-call-deadlines").daemon().start(this::watch);
    }

    /** Cancels {@code call} once {@code deadlineNanos} ({@link System#nanoTime()}) passes, unless released first. */
    Watch watch(Call call, long deadlineNanos) {
        Watch w = new Watch(call, deadlineNanos);
        watched.put(w, Boolean.TRUE);
        return w;
    }

    void release(Watch w) {
        watched.remove(w);
    }

    private void watch() {
        while (running) {
            long now = System.nanoTime();
            for (Watch w : watched.keySet()) {
                if (now - w.deadlineNanos >= 0) {
                    w.expired = true;
                    watched.remove(w);
                    w.call.cancel();
                }
            }
            try {
                TimeUnit.MILLISECONDS.sleep(RESOLUTION_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        running = false;
        watchdog.interrupt();
    }
}
