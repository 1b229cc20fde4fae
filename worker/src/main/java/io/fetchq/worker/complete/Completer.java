package io.fetchq.worker.complete;

import io.fetchq.db.Completion;
import io.fetchq.db.QueueQueries;
import io.fetchq.worker.loop.BackgroundLoop;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes ended attempts in batches: one statement for everything that ended since the last write
 * (up to {@code complete-batch} rows and {@link #MAX_BATCH_BYTES}, or half the worker's body memory
 * if that is less: the driver copies a statement's bodies once more as it sends them). A writer
 * that finds less than a batch waiting gathers what ends until the oldest result has waited
 * {@code complete-linger}, so that a worker fetching a few hundred pages a second writes them in a
 * few statements rather than one per page. While the database is away a
 * writer keeps its batch and tries again, its loop's backoff between tries. The claimer stops
 * claiming while a batch's worth (rows or bytes) is waiting here, so what waits is bounded.
 */
public final class Completer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Completer.class);

    /** Bodies waiting in one statement; bounds the memory of a batch of large bodies. */
    static final long MAX_BATCH_BYTES = 32L * 1024 * 1024;

    /** How long closing waits for what is pending to be written. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    /** A completion, what to do once it is written (free the job's slot), and when it was submitted. */
    record Pending(Completion completion, Runnable written, long submittedNanos) {
    }

    private final QueueQueries queue;
    private final String workerId;
    private final int batchSize;
    private final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    private final AtomicLong pendingBytes = new AtomicLong();
    private final List<Writer> writers = new ArrayList<>();
    private final Consumer<List<String>> wrote;
    private final long maxBatchBytes;
    private final long lingerNanos;

    /**
     * @param writers threads writing batches side by side: one statement's round trip and commit
     *     need not wait for the previous one
     */
    public Completer(QueueQueries queue, String workerId, int batchSize, int writers) {
        this(queue, workerId, batchSize, Duration.ZERO, writers, MAX_BATCH_BYTES, () -> {
        }, finished -> {
        });
    }

    /**
     * As above, results waiting up to {@code linger} for others to share their statement, with
     * statements of at most {@code maxBatchBytes} of bodies (and never more than
     * {@link #MAX_BATCH_BYTES}); {@code writeFailed} is told of every failed write (each is
     * retried), {@code wrote} of every statement that reached the database, with the
     * {@link io.fetchq.db.Finished} keys of the jobs it finished.
     */
    public Completer(QueueQueries queue, String workerId, int batchSize, Duration linger, int writers,
            long maxBatchBytes, Runnable writeFailed, Consumer<List<String>> wrote) {
        this.maxBatchBytes = Math.min(MAX_BATCH_BYTES, maxBatchBytes);
        this.lingerNanos = linger.toNanos();
        this.queue = queue;
        this.workerId = workerId;
        this.batchSize = batchSize;
        this.wrote = wrote;
        for (int i = 0; i < writers; i++) {
            this.writers.add(new Writer("fetchq-completer-" + i, writeFailed));
        }
    }

    public void start() {
        writers.forEach(w -> w.loop.start());
    }

    public void submit(Completion completion, Runnable written) {
        pendingBytes.addAndGet(completion.weight());
        pending.add(new Pending(completion, written, System.nanoTime()));
    }

    /** Completions waiting for a writer. */
    public int backlog() {
        return pending.size();
    }

    /** Whether what waits for a writer already fills a batch's bytes: time to stop adding to it. */
    public boolean backlogFull() {
        return pendingBytes.get() >= maxBatchBytes;
    }

    /**
     * One writer: a loop whose pass writes the batch it holds, or takes the next one. A pass that
     * fails leaves the batch held, to be written by the next pass.
     */
    private final class Writer {
        final BackgroundLoop loop;
        /** Taken from {@code pending} and not yet written (writer thread only). */
        final List<Pending> batch = new ArrayList<>(batchSize);
        /** Whether {@code batch} is empty, for {@link #close} to read. */
        volatile boolean idle = true;

        Writer(String threadName, Runnable writeFailed) {
            this.loop = BackgroundLoop.continuous("complete", threadName, workerId, writeFailed, this::pass);
        }

        private void pass() throws InterruptedException {
            if (batch.isEmpty() && !take()) {
                return;
            }
            write(batch);
            batch.clear();
            idle = true;
        }

        /**
         * Takes what is pending, up to a batch, waiting for more while the first has waited less than
         * the linger; false when nothing came within 100 ms.
         */
        private boolean take() throws InterruptedException {
            Pending first = pending.poll(100, TimeUnit.MILLISECONDS);
            if (first == null) {
                return false;
            }
            idle = false;
            batch.add(first);
            long bytes = first.completion().weight();
            long lingerEnds = first.submittedNanos() + lingerNanos;
            while (batch.size() < batchSize && bytes < maxBatchBytes) {
                Pending next = pending.poll();
                if (next == null) {
                    long left = lingerEnds - System.nanoTime();
                    next = left > 0 ? pending.poll(left, TimeUnit.NANOSECONDS) : null;
                }
                if (next == null) {
                    break;
                }
                batch.add(next);
                bytes += next.completion().weight();
            }
            pendingBytes.addAndGet(-bytes);
            return true;
        }
    }

    /**
     * Writes the batch, then frees the jobs' slots; throws, leaving the batch as it is, while the
     * database is unavailable. A batch the database refuses for its data is written one completion
     * at a time, so that one bad value cannot hold back the others; those written leave the batch.
     */
    private void write(List<Pending> batch) {
        try {
            List<String> finished = new ArrayList<>();
            List<Long> written = queue.completeMany(batch.stream().map(Pending::completion).toList(), workerId,
                    finished);
            wrote.accept(finished);
            if (written.size() < batch.size()) {
                log.debug("[{}] {} of {} completions lost their claim and were dropped", workerId,
                        batch.size() - written.size(), batch.size());
            }
        } catch (RuntimeException e) {
            if (!refusedData(e)) {
                throw e;
            }
            writeOneByOne(batch);
            return;
        }
        for (Pending p : batch) {
            p.written().run();
        }
    }

    private void writeOneByOne(List<Pending> batch) {
        for (var it = batch.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            List<String> finished = new ArrayList<>();
            try {
                queue.completeMany(List.of(p.completion()), workerId, finished);
            } catch (RuntimeException refused) {
                if (!refusedData(refused)) {
                    throw refused;
                }
                log.warn("[{}] job {}: result refused by the database ({}); storing it without the remote's text",
                        workerId, p.completion().claim().jobId(), refused.toString());
                try {
                    queue.completeMany(List.of(p.completion().withoutRemoteText()), workerId, finished);
                } catch (RuntimeException again) {
                    if (!refusedData(again)) {
                        throw again;
                    }
                    // Its claim stays unwritten: the lease expires and a rescue records the attempt.
                    log.error("[{}] job {}: result could not be stored; the job will be rescued", workerId,
                            p.completion().claim().jobId(), again);
                }
            }
            it.remove();
            wrote.accept(finished);
            p.written().run();
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

    /** Writes what is pending (waiting up to {@link #CLOSE_WAIT}), then stops. */
    @Override
    public void close() {
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        while ((!pending.isEmpty() || writers.stream().anyMatch(w -> !w.idle)) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        writers.forEach(w -> w.loop.close(Duration.ZERO));
        writers.forEach(w -> w.loop.close(Duration.ofSeconds(5)));
    }
}
