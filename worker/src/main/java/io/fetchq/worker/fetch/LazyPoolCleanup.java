package io.fetchq.worker.fetch;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import okhttp3.ConnectionPool;
import okhttp3.internal.concurrent.TaskRunner;
import okhttp3.internal.connection.ConnectionListener;

/**
 * Runs the cleanups of the fetcher's connection pools (closing connections idle past their
 * keep-alive) without a wake-up per fetch. OkHttp schedules a pool's cleanup every time a connection
 * goes back to the pool, and its default task runner wakes a thread for each: a thread switch and a
 * scan of the pool for every request made. This runner is never woken; its thread looks for due
 * cleanups at least every {@link #LATENESS}, so an idle connection is closed up to that much later
 * than its keep-alive says, and nothing else changes.
 *
 * <p>Built on OkHttp's task runner ({@code okhttp3.internal.concurrent}), which the pinned version
 * of OkHttp exposes for this; {@code LazyPoolCleanupTest} checks that idle connections are still closed.
 */
final class LazyPoolCleanup implements TaskRunner.Backend {

    /** Longest a due cleanup waits for the runner's thread. */
    static final Duration LATENESS = Duration.ofSeconds(1);

    /** One runner for every pool of the process: a thread while cleanups are pending, none otherwise. */
    private static final TaskRunner RUNNER = new TaskRunner(new LazyPoolCleanup(),
            Logger.getLogger(LazyPoolCleanup.class.getName()));

    private final TaskRunner.RealBackend real = new TaskRunner.RealBackend(
            Thread.ofPlatform().daemon().name("fetchq-pool-cleanup-", 0).factory());

    private LazyPoolCleanup() {
    }

    /** A pool of up to {@code maxIdle} idle connections, each kept {@code keepAlive} at most (and {@link #LATENESS}). */
    static ConnectionPool pool(int maxIdle, Duration keepAlive) {
        return new ConnectionPool(maxIdle, keepAlive.toNanos(), TimeUnit.NANOSECONDS, RUNNER,
                ConnectionListener.Companion.getNONE());
    }

    @Override
    public long nanoTime() {
        return real.nanoTime();
    }

    @Override
    public void coordinatorNotify(TaskRunner taskRunner) {
        // Not woken: the coordinator's wait is bounded instead.
    }

    @Override
    public void coordinatorWait(TaskRunner taskRunner, long nanos) {
        try {
            real.coordinatorWait(taskRunner, Math.min(nanos, LATENESS.toNanos()));
        } catch (InterruptedException e) {
            // The interface does not declare it, its caller handles it (it cancels the runner's tasks).
            throw LazyPoolCleanup.<RuntimeException>rethrow(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E rethrow(Throwable e) throws E {
        throw (E) e;
    }

    @Override
    public <T> BlockingQueue<T> decorate(BlockingQueue<T> queue) {
        return real.decorate(queue);
    }

    @Override
    public void execute(TaskRunner taskRunner, Runnable runnable) {
        real.execute(taskRunner, runnable);
    }
}
