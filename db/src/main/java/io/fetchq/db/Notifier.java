package io.fetchq.db;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Sends a PostgreSQL notification on one channel after the changes it announces have committed,
 * coalesced: at most one per {@code interval}, from a thread of its own, naming everything announced
 * since the last one.
 *
 * <p>Why not {@code NOTIFY} inside the writing transaction: PostgreSQL serialises the commits of
 * every transaction that notified on one lock held through the commit's flush, across all clients;
 * one notification per submit made concurrent submits queue behind each other. Notifications are
 * hints (listeners also poll), so one lost to a failure here costs a poll interval, never a job.
 *
 * <p>Payload: the announced items joined by commas, or {@link #ANYTHING} when they would not fit
 * (PostgreSQL's limit is 8,000 bytes).
 */
public final class Notifier implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Notifier.class);

    /** The payload when too much was announced to name it: listeners must look at everything. */
    public static final String ANYTHING = "*";

    /** Longest payload sent; beyond it, {@link #ANYTHING}. */
    static final int MAX_PAYLOAD = 7_000;

    private final JdbcTemplate jdbc;
    private final String channel;
    private final long intervalNanos;
    private final ScheduledExecutorService sender;
    private final Object lock = new Object();
    /** What was announced since the last notification (under {@code lock}). */
    private final Set<String> items = new LinkedHashSet<>();
    private int payloadLength;
    private boolean overflow;
    private boolean scheduled;
    private long lastSentNanos = System.nanoTime() - Duration.ofDays(1).toNanos();

    public Notifier(JdbcTemplate jdbc, String channel, Duration interval) {
        this.jdbc = jdbc;
        this.channel = channel;
        this.intervalNanos = interval.toNanos();
        this.sender = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("fetchq-notify-" + channel).daemon().factory());
    }

    /** Announces that something changed (a notification with no payload). */
    public void announce() {
        announce(List.of());
    }

    /** Announces these items: the next notification names them. */
    public void announce(Collection<String> announced) {
        synchronized (lock) {
            for (String item : announced) {
                if (!overflow && items.add(item)) {
                    payloadLength += item.length() + 1;
                    if (payloadLength > MAX_PAYLOAD) {
                        overflow = true;
                        items.clear();
                    }
                }
            }
            if (scheduled) {
                return;
            }
            scheduled = true;
            long delay = Math.max(0, lastSentNanos + intervalNanos - System.nanoTime());
            try {
                sender.schedule(this::send, delay, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException closed) {
                scheduled = false;
            }
        }
    }

    private void send() {
        String payload;
        synchronized (lock) {
            payload = overflow ? ANYTHING : String.join(",", items);
            items.clear();
            payloadLength = 0;
            overflow = false;
            scheduled = false;
            lastSentNanos = System.nanoTime();
        }
        try {
            jdbc.query("SELECT pg_notify(?, ?)", rs -> { }, channel, payload);
        } catch (RuntimeException e) {
            // A hint lost: listeners poll as well.
            log.debug("could not notify {}: {}", channel, e.toString());
        }
    }

    @Override
    public void close() {
        sender.shutdown();
        try {
            sender.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
