package io.fetchq.worker.loop;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's background loop on a platform thread of its own, repeating one pass until closed. A
 * pass that throws (anything: an error must not end the loop) is logged with the worker's id,
 * counted, and followed by a wait that doubles from {@link #FIRST_BACKOFF} to {@link #MAX_BACKOFF}
 * and starts over after a pass that succeeds.
 *
 * <p>Two shapes: {@link #continuous} runs passes back to back (each waits for its own work, like
 * the claimer or a completer), {@link #every} waits a fixed delay between them (heartbeat, rescue,
 * retention).
 */
public final class BackgroundLoop implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BackgroundLoop.class);

    /** Wait after a first failed pass. */
    public static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    /** Longest wait between failed passes. */
    public static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    /** One pass of a loop. */
    @FunctionalInterface
    public interface Pass {
        void run() throws Exception;
    }

    /** How a loop waits between passes: until the time is up or the loop is closed. Replaced in tests. */
    @FunctionalInterface
    interface Pause {
        void pause(long millis);
    }

    private final String name;
    private final String workerId;
    private final Runnable failed;
    private final Duration firstDelay;
    private final Duration every;
    private final Pass pass;
    private final Thread thread;
    private final Object monitor = new Object();
    private final Pause pause;
    private volatile boolean running;
    /** Set by {@link #wake}: the pause under way (or the next one) ends at once. */
    private volatile boolean woken;

    BackgroundLoop(String name, String threadName, String workerId, Runnable failed, Duration firstDelay,
            Duration every, Pass pass, Pause pause) {
        this.name = name;
        this.workerId = workerId;
        this.failed = failed;
        this.firstDelay = firstDelay;
        this.every = every;
        this.pass = pass;
        this.pause = pause == null ? this::await : pause;
        this.thread = Thread.ofPlatform().name(threadName).daemon().unstarted(this::run);
    }

    /**
     * Passes back to back; each waits for its work itself and should return within a second or so
     * once {@link #running()} turns false.
     *
     * @param name the loop's name in logs and in {@code fetchq_loop_failures_total{loop}}
     * @param failed told of every failed pass
     */
    public static BackgroundLoop continuous(String name, String threadName, String workerId, Runnable failed,
            Pass pass) {
        return new BackgroundLoop(name, threadName, workerId, failed, Duration.ZERO, null, pass, null);
    }

    /** A pass after {@code firstDelay}, then one {@code every} after the end of the last. */
    public static BackgroundLoop every(String name, String threadName, String workerId, Runnable failed,
            Duration firstDelay, Duration every, Pass pass) {
        return new BackgroundLoop(name, threadName, workerId, failed, firstDelay, every, pass, null);
    }

    public void start() {
        running = true;
        thread.start();
    }

    /** False once the loop is being closed: a long pass should stop at its next step. */
    public boolean running() {
        return running;
    }

    private void run() {
        long backoff = FIRST_BACKOFF.toMillis();
        if (!firstDelay.isZero()) {
            pause.pause(firstDelay.toMillis());
        }
        while (running) {
            try {
                pass.run();
                backoff = FIRST_BACKOFF.toMillis();
                if (every != null) {
                    pause.pause(every.toMillis());
                }
            } catch (Throwable t) {
                if (!running) {
                    return;
                }
                failed.run();
                log.warn("[{}] {} failed, again in {} ms: {}", workerId, name, backoff, t.toString());
                pause.pause(every == null ? backoff : Math.min(backoff, every.toMillis()));
                backoff = Math.min(MAX_BACKOFF.toMillis(), backoff * 2);
            }
        }
    }

    /** Ends the wait between passes now (or the next one, if a pass is under way): a pass runs at once. */
    public void wake() {
        synchronized (monitor) {
            woken = true;
            monitor.notifyAll();
        }
    }

    /** Waits up to {@code millis}, or until closed or woken. */
    private void await(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        synchronized (monitor) {
            long left;
            while (running && !woken && (left = end - System.nanoTime()) > 0) {
                try {
                    monitor.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            woken = false;
        }
    }

    /** Stops after the pass under way, waiting up to {@code wait} for it. */
    public void close(Duration wait) {
        running = false;
        synchronized (monitor) {
            monitor.notifyAll();
        }
        try {
            thread.join(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops after the pass under way, waiting up to ten seconds for it. */
    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    /** Stops now: closes, interrupting a pass that waits on something else than this loop. */
    public void interrupt() {
        running = false;
        thread.interrupt();
        close(Duration.ofSeconds(1));
    }
}
