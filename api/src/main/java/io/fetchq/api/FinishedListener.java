package io.fetchq.api;

import io.fetchq.db.DbConnections;
import io.fetchq.db.Finished;
import io.fetchq.db.Listening;
import io.fetchq.db.Notifier;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Listens on a connection of its own for the "jobs finished" notifications ({@link Finished}) that
 * workers send once their results commit, and wakes the requests held by {@code wait_ms} that wait
 * for what finished ({@link LongPoll}). While it is not listening (the database is away, the
 * connection dropped), held requests look on their own every 200 ms; it reconnects with a backoff
 * of 100 ms doubling to 5 s, and asks the connection a question every 10 s so that a connection
 * that silently died is noticed.
 */
@Component
class FinishedListener implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(FinishedListener.class);

    private static final long FIRST_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5_000;

    private final DataSource dataSource;
    private final LongPoll longPoll;
    private volatile boolean running;
    private Thread thread;

    FinishedListener(DataSource dataSource, LongPoll longPoll) {
        this.dataSource = dataSource;
        this.longPoll = longPoll;
    }

    @Override
    public void start() {
        running = true;
        thread = Thread.ofPlatform().name("fetchq-finished-listener").daemon().start(this::run);
    }

    private void run() {
        long backoff = FIRST_BACKOFF_MS;
        while (running) {
            try {
                listen();
                backoff = FIRST_BACKOFF_MS;
            } catch (Throwable t) {
                longPoll.notificationsArrive(false);
                if (!running) {
                    return;
                }
                log.warn("listening for finished jobs failed, again in {} ms: {}", backoff, t.toString());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    return;
                }
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            }
        }
    }

    private void listen() throws Exception {
        try (Connection connection = DbConnections.dedicated(dataSource)) {
            Listening.listen(connection, Finished.CHANNEL, () -> running, () -> {
                longPoll.notificationsArrive(true);
                // Whatever finished before the LISTEN took hold: every held request looks once.
                longPoll.finished(List.of(Notifier.ANYTHING));
            }, payloads -> {
                List<String> keys = new ArrayList<>();
                payloads.forEach(p -> keys.addAll(List.of(p.split(","))));
                longPoll.finished(keys);
            });
        } finally {
            longPoll.notificationsArrive(false);
        }
    }

    @Override
    public void stop() {
        running = false;
        if (thread != null) {
            thread.interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
