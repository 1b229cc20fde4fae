package io.fetchq.worker.complete;

import io.fetchq.db.Completion;
import io.fetchq.db.QueueQueries;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes ended attempts in batches: one statement for everything that ended since the last write
 * (up to {@code complete-batch} rows and {@link #MAX_BATCH_BYTES}). While the database is away it
 * keeps the batch and tries again with backoff. The claimer stops claiming while a batch's worth
 * (rows or bytes) is waiting here, so what waits is bounded.
 */
public final class Completer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Completer.class);

    /** Bodies waiting in one statement; bounds the memory of a batch of large bodies. */
    static final long MAX_BATCH_BYTES = 32L * 1024 * 1024;

    /** A completion and what to do once it is written (free the job's slot). */
    record Pending(Completion completion, Runnable written) {
    }

    private final QueueQueries queue;
    private final String workerId;
    private final Runnable writeFailed;
    private final int batchSize;
    private final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    private final AtomicLong pendingBytes = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    /**
     * @param writers threads writing batches side by side: one statement's round trip and commit
     *     need not wait for the previous one
     */
    public Completer(QueueQueries queue, String workerId, int batchSize, int writers) {
        this(queue, workerId, batchSize, writers, () -> {
        });
    }

    /** As above; {@code writeFailed} is told of every failed write (each is retried). */
    public Completer(QueueQueries queue, String workerId, int batchSize, int writers, Runnable writeFailed) {
        this.queue = queue;
        this.workerId = workerId;
        this.writeFailed = writeFailed;
        this.batchSize = batchSize;
        for (int i = 0; i < writers; i++) {
            threads.add(Thread.ofPlatform().name("fetchq-completer-" + i).daemon().unstarted(this::run));
        }
    }

    public void start() {
        threads.forEach(Thread::start);
    }

    public void submit(Completion completion, Runnable written) {
        pendingBytes.addAndGet(completion.weight());
        pending.add(new Pending(completion, written));
    }

    /** Completions waiting for a writer. */
    public int backlog() {
        return pending.size();
    }

    /** Whether what waits for a writer already fills a batch's bytes: time to stop adding to it. */
    public boolean backlogFull() {
        return pendingBytes.get() >= MAX_BATCH_BYTES;
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(batchSize);
        while (!stopping || !pending.isEmpty()) {
            try {
                Pending first = pending.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long bytes = first.completion().weight();
                while (batch.size() < batchSize && bytes < MAX_BATCH_BYTES) {
                    Pending next = pending.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                    bytes += next.completion().weight();
                }
                pendingBytes.addAndGet(-bytes);
                write(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                writeFailed.run();
                log.error("[{}] completer loop error; continuing", workerId, t);
            } finally {
                batch.clear();
            }
        }
    }

    /**
     * Writes the batch, retrying while the database is unavailable; then frees the jobs' slots. A
     * batch the database refuses for its data is written one completion at a time, so that one bad
     * value cannot hold back the others.
     */
    private void write(List<Pending> batch) throws InterruptedException {
        long backoff = 100;
        while (true) {
            try {
                List<Long> written = queue.completeMany(batch.stream().map(Pending::completion).toList(), workerId);
                if (written.size() < batch.size()) {
                    log.debug("[{}] {} of {} completions lost their claim and were dropped", workerId,
                            batch.size() - written.size(), batch.size());
                }
                break;
            } catch (RuntimeException e) {
                if (refusedData(e)) {
                    writeOneByOne(batch);
                    return;
                }
                writeFailed.run();
                log.warn("[{}] could not write {} completions, retrying in {} ms: {}", workerId, batch.size(),
                        backoff, e.toString());
                Thread.sleep(backoff);
                backoff = Math.min(5_000, backoff * 2);
            }
        }
        for (Pending p : batch) {
            p.written().run();
        }
    }

    private void writeOneByOne(List<Pending> batch) throws InterruptedException {
        for (Pending p : batch) {
            try {
                write(List.of(p.completion()), p);
            } catch (RuntimeException refused) {
                if (!refusedData(refused)) {
                    throw refused;
                }
                log.warn("[{}] job {}: result refused by the database ({}); storing it without the remote's text",
                        workerId, p.completion().jobId(), refused.toString());
                try {
                    write(List.of(p.completion().withoutRemoteText()), p);
                } catch (RuntimeException again) {
                    // Its claim stays unwritten: the lease expires and a rescue records the attempt.
                    log.error("[{}] job {}: result could not be stored; the job will be rescued", workerId,
                            p.completion().jobId(), again);
                    p.written().run();
                }
            }
        }
    }

    private void write(List<Completion> one, Pending p) throws InterruptedException {
        long backoff = 100;
        while (true) {
            try {
                queue.completeMany(one, workerId);
                p.written().run();
                return;
            } catch (RuntimeException e) {
                if (refusedData(e)) {
                    throw e;
                }
                Thread.sleep(backoff);
                backoff = Math.min(5_000, backoff * 2);
            }
        }
    }

    /** Whether the database refused the values (SQLSTATE class 22 or 23), as opposed to being unavailable. */
    static boolean refusedData(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("22") || sql.getSQLState().startsWith("23"))) {
                return true;
            }
        }
        return false;
    }

    /** Writes what is pending, then stops. */
    @Override
    public void close() {
        stopping = true;
        try {
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
