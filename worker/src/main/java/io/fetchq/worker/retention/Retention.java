package io.fetchq.worker.retention;

import io.fetchq.db.RetentionQueries;
import io.fetchq.worker.loop.BackgroundLoop;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes history older than {@code fetchq.retention.finished-jobs}, on a thread of its own so that
 * a long pass never delays a heartbeat. Every worker runs it; concurrent passes skip each other's
 * rows, so they share the work instead of repeating it.
 */
public final class Retention implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Retention.class);

    private final RetentionProperties properties;
    private final RetentionQueries queries;
    private final Runnable passFailed;
    private final String workerId;
    private BackgroundLoop loop;

    public Retention(RetentionProperties properties, RetentionQueries queries) {
        this(properties, queries, () -> {
        }, "");
    }

    /** As above; {@code passFailed} is told of every failed pass (retried with the loop's backoff). */
    public Retention(RetentionProperties properties, RetentionQueries queries, Runnable passFailed, String workerId) {
        this.properties = properties;
        this.queries = queries;
        this.passFailed = passFailed;
        this.workerId = workerId;
    }

    public void start() {
        if (!properties.enabled()) {
            log.info("retention is off: finished jobs are kept until deleted by hand");
            return;
        }
        Duration every = properties.interval();
        // A random first delay, so that workers started together do not all sweep at once.
        Duration first = Duration.ofMillis(ThreadLocalRandom.current().nextLong(Math.min(every.toMillis(), 60_000) + 1));
        loop = BackgroundLoop.every("retention", "fetchq-retention", workerId, passFailed, first, every, this::runOnce);
        loop.start();
    }

    /** One pass: deletes everything past retention, one short statement at a time; returns jobs deleted. */
    public long runOnce() {
        Instant cutoff = Instant.now().minus(properties.finishedJobs());
        long jobs = 0;
        int deleted;
        do {
            deleted = queries.deleteFinishedBefore(cutoff, properties.batchSize());
            jobs += deleted;
        } while (deleted == properties.batchSize() && !Thread.currentThread().isInterrupted());
        long contents = deleteUnusedContents();
        int batches = queries.deleteEmptyBatchesBefore(cutoff);
        if (jobs + batches + contents > 0) {
            log.info("retention: deleted {} jobs finished before {} (with their attempts and bodies), {} stored"
                    + " contents no job points at any more, and {} batches", jobs, cutoff, contents, batches);
        }
        return jobs;
    }

    /**
     * Deletes the stored contents that no body points at any more, a short locked transaction at a
     * time (completions wait for each); stops early when the lock does not come in time.
     */
    private long deleteUnusedContents() {
        long deleted = 0;
        RetentionQueries.Contents pass;
        do {
            pass = queries.deleteUnusedContents(properties.batchSize(), CONTENT_LOCK_TIMEOUT);
            deleted += pass.deleted();
        } while (pass.locked() && pass.checked() == properties.batchSize() && !Thread.currentThread().isInterrupted());
        return deleted;
    }

    /** How long a pass waits for the lock on stored contents before leaving them to the next pass. */
    private static final Duration CONTENT_LOCK_TIMEOUT = Duration.ofSeconds(2);

    @Override
    public void close() {
        if (loop != null) {
            loop.interrupt();
        }
    }
}
