package io.fetchq.db;

import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Runs due schedules in this process: every {@code fetchq.schedules.poll-interval}, claims due
 * schedules no other process holds and makes their runs ({@link ScheduleQueries#runDue}), again at
 * once while a pass finds a full batch. Workers and API processes all run one; there is no leader.
 */
@Component
public class ScheduleRunner implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ScheduleRunner.class);

    private final ScheduleQueries schedules;
    private final SchedulesProperties properties;
    private final Clock clock;
    private volatile Thread loop;
    private volatile boolean running;

    public ScheduleRunner(ScheduleQueries schedules, SchedulesProperties properties, ObjectProvider<Clock> clock) {
        this.schedules = schedules;
        this.properties = properties;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @Override
    public void start() {
        if (!properties.enabled() || running) {
            return;
        }
        running = true;
        loop = Thread.ofVirtual().name("fetchq-schedules").start(this::run);
    }

    private void run() {
        long backoffNanos = properties.pollInterval().toNanos();
        while (running) {
            long pause = properties.pollInterval().toNanos();
            try {
                ScheduleQueries.Pass pass = schedules.runDue(clock.instant(), properties.batch(), properties.lateAfter(),
                        properties.maxJobsPerPass());
                if (!pass.runs().isEmpty()) {
                    log.debug("made {} scheduled runs", pass.runs().size());
                }
                backoffNanos = pause;
                if (pass.more(properties.batch())) {
                    continue;
                }
            } catch (RuntimeException e) {
                // The database is away or refused: try again later, no more often than every poll.
                log.warn("running due schedules failed: {}", e.toString());
                backoffNanos = Math.min(backoffNanos * 2, TimeUnit.SECONDS.toNanos(30));
                pause = backoffNanos;
            }
            LockSupport.parkNanos(pause);
        }
    }

    @Override
    public void stop() {
        running = false;
        Thread t = loop;
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
