package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.Concurrently;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Notifications go after the commit that they announce, coalesced: many commits at once make one
 * notification per interval, naming everything announced, never a notification per commit.
 */
class NotifierTest extends SqlTestBase {

    private static final String CHANNEL = "fetchq_test_notifier";

    private Connection listener;
    private final List<String> received = new ArrayList<>();

    @BeforeEach
    void listen() throws Exception {
        listener = dataSource.getConnection();
        listener.setAutoCommit(true);
        try (Statement s = listener.createStatement()) {
            s.execute("LISTEN " + CHANNEL);
            s.execute("LISTEN " + JobQueries.NOTIFY_CHANNEL);
        }
    }

    @AfterEach
    void unlisten() throws Exception {
        try (Statement s = listener.createStatement()) {
            s.execute("UNLISTEN *");
        }
        listener.close();
    }

    /** Notifications received on {@code channel} so far. */
    private List<String> received(String channel) throws Exception {
        PGNotification[] batch = listener.unwrap(PGConnection.class).getNotifications(50);
        if (batch != null) {
            for (PGNotification n : batch) {
                received.add(n.getName() + ":" + n.getParameter());
            }
        }
        return received.stream().filter(r -> r.startsWith(channel + ":")).map(r -> r.substring(channel.length() + 1))
                .toList();
    }

    @Test
    void manyAnnouncementsMakeOneNotificationPerIntervalNamingEverything() throws Exception {
        try (Notifier notifier = new Notifier(jdbc, CHANNEL, Duration.ofMillis(300))) {
            notifier.announce(List.of("b1"));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> received(CHANNEL).size() == 1);
            for (int i = 2; i <= 50; i++) {
                notifier.announce(List.of("b" + i, "b1"));
            }
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> received(CHANNEL).size() == 2);
            List<String> got = received(CHANNEL);
            assertThat(got.get(0)).as("the first at once").isEqualTo("b1");
            assertThat(Set.of(got.get(1).split(","))).as("the rest together, each once")
                    .isEqualTo(IntStream.rangeClosed(1, 50).mapToObj(i -> "b" + i).collect(Collectors.toSet()));
        }
    }

    @Test
    void tooMuchToNameIsAnnouncedAsAnything() throws Exception {
        try (Notifier notifier = new Notifier(jdbc, CHANNEL, Duration.ZERO)) {
            notifier.announce(IntStream.range(0, 5_000).mapToObj(i -> "job-" + i).toList());
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> received(CHANNEL).size() == 1);
            assertThat(received(CHANNEL)).containsExactly(Notifier.ANYTHING);
        }
    }

    @Test
    void concurrentSubmitsAreAnnouncedAfterCommitInFewNotifications() throws Exception {
        try (Notifier notifier = new Notifier(jdbc, JobQueries.NOTIFY_CHANNEL, Duration.ofMillis(200))) {
            JobQueries submits = new JobQueries(sql, jdbc, new TransactionTemplate(tx.getTransactionManager()), notifier);
            Concurrently.run(8, i -> () -> {
                for (int j = 0; j < 25; j++) {
                    submits.insertOne(aJob("http://example.com/" + i + "/" + j).build());
                }
                return null;
            });
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !received(JobQueries.NOTIFY_CHANNEL).isEmpty());
            Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                    .until(() -> received(JobQueries.NOTIFY_CHANNEL).size() < 200);
            assertThat(received(JobQueries.NOTIFY_CHANNEL).size()).as("notifications for 200 commits").isLessThan(50);
            assertThat(sql.sql("SELECT count(*) FROM fetchq.queue").query(Long.class).single()).isEqualTo(200);
        }
    }
}
