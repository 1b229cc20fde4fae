package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.dao.QueryTimeoutException;

/** A read of the API that the database cannot answer in time is cancelled by the server. */
class ReadTimeoutSqlTest extends SqlTestBase {

    @Test
    void aReadStuckBehindALockIsCancelledAfterTheReadTimeout() throws Exception {
        long id = aJob("http://example.com/locked").submit();
        DbProperties oneSecond = new DbProperties(Duration.ofSeconds(60), Duration.ofSeconds(30), true,
                Duration.ofSeconds(1), Duration.ofMillis(10), 10_000);
        JobQueries reads = new JobQueries(sql, jdbc, tx, new Notifier(jdbc, JobQueries.NOTIFY_CHANNEL, Duration.ZERO),
                oneSecond);
        try (Connection locker = dataSource.getConnection(); Statement s = locker.createStatement()) {
            locker.setAutoCommit(false);
            s.execute("LOCK TABLE fetchq.job IN ACCESS EXCLUSIVE MODE");
            assertTimeoutPreemptively(Duration.ofSeconds(15), () -> assertThatThrownBy(() -> reads.getById(id))
                    .isInstanceOf(QueryTimeoutException.class));
            locker.rollback();
        }
    }
}
