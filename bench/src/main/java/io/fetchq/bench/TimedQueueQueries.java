package io.fetchq.bench;

import io.fetchq.db.ClaimedJob;
import io.fetchq.db.Completion;
import io.fetchq.db.QueueQueries;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.jdbc.core.JdbcTemplate;

/** The worker's queue statements, timed: where a drain spends its database time. */
final class TimedQueueQueries extends QueueQueries {

    private final AtomicLong claims = new AtomicLong(), claimed = new AtomicLong(), claimNanos = new AtomicLong();
    private final AtomicLong completes = new AtomicLong(), completed = new AtomicLong(), completeNanos = new AtomicLong();
    private final AtomicLong written = new AtomicLong();

    TimedQueueQueries(JdbcTemplate jdbc) {
        super(jdbc);
    }

    @Override
    public List<ClaimedJob> claimDue(String workerId, int limit, int scan, int perHost, Map<String, Integer> hostRoom,
            int bufferPercent, int bufferMax, Duration lease, Collection<String> unserved) {
        long t = System.nanoTime();
        List<ClaimedJob> jobs = super.claimDue(workerId, limit, scan, perHost, hostRoom, bufferPercent, bufferMax, lease,
                unserved);
        claimNanos.addAndGet(System.nanoTime() - t);
        claims.incrementAndGet();
        claimed.addAndGet(jobs.size());
        return jobs;
    }

    @Override
    public List<Long> completeMany(Collection<? extends Completion> completions, String workerId,
            Collection<String> finished) {
        long t = System.nanoTime();
        List<Long> written = super.completeMany(completions, workerId, finished);
        completeNanos.addAndGet(System.nanoTime() - t);
        completes.incrementAndGet();
        completed.addAndGet(completions.size());
        this.written.addAndGet(written.size());
        return written;
    }

    /**
     * Completions the database accepted so far: how the harness sees a drain end without polling
     * the database (a {@code count(*)} every few milliseconds would take CPU from the drain).
     */
    long written() {
        return written.get();
    }

    String summary() {
        return String.format(Locale.ROOT,
                "claims %d (avg %.0f jobs, %.1f ms each, %.1f s total); completions %d (avg %.0f jobs, %.1f ms each, %.1f s total)",
                claims.get(), (double) claimed.get() / Math.max(1, claims.get()),
                claimNanos.get() / 1e6 / Math.max(1, claims.get()), claimNanos.get() / 1e9,
                completes.get(), (double) completed.get() / Math.max(1, completes.get()),
                completeNanos.get() / 1e6 / Math.max(1, completes.get()), completeNanos.get() / 1e9);
    }
}
