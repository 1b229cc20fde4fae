package io.fetchq.db.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/** Runs tasks on their own threads, released together, for race tests. */
public final class Concurrently {

    private Concurrently() {
    }

    /** Runs {@code count} tasks made by {@code task} (given their index) at once; their results in order. */
    public static <T> List<T> run(int count, IntFunction<Callable<T>> task) throws Exception {
        CountDownLatch start = new CountDownLatch(count);
        List<Callable<T>> tasks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Callable<T> body = task.apply(i);
            tasks.add(() -> {
                start.countDown();
                start.await();
                return body.call();
            });
        }
        ExecutorService pool = Executors.newFixedThreadPool(count);
        try {
            List<T> results = new ArrayList<>();
            for (Future<T> f : pool.invokeAll(tasks)) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
