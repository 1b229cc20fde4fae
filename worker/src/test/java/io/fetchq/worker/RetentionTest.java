package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.NewJob;
import io.fetchq.db.RetentionQueries;
import io.fetchq.worker.retention.Retention;
import io.fetchq.worker.retention.RetentionProperties;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** History past {@code fetchq.retention.finished-jobs} goes, with its attempts and bodies; nothing else does. */
class RetentionTest extends WorkerTestBase {

    private static NewJob job(String url) {
        return new NewJob(url, "127.0.0.1", "GET", null, null, 0, null, 0, 3, 10_000, 1 << 20, true, true,
                List.of("title"), false, null, null, null);
    }

    private List<NewJob> pages(String batch, int n) {
        return IntStream.range(0, n).mapToObj(i -> job(server.url("/page/" + batch + i))).toList();
    }

    private static long count(String query, Object... params) {
        var statement = sql.sql(query);
        for (Object p : params) {
            statement = statement.param(p);
        }
        return statement.query(Long.class).single();
    }

    @Test
    void deletesOnlyJobsFinishedBeforeTheCutoffWithTheirAttemptsBodiesAndEmptiedBatches() {
        long oldBatch = jobs.insertBatch(pages("old", 5)).id();
        long mixedBatch = jobs.insertBatch(pages("mixed", 2)).id();
        startWorker(settings("host-limits[127.0.0.1]", "16"));
        await("every job final", Duration.ofSeconds(30),
                () -> count("SELECT count(*) FROM fetchq.job_results WHERE state NOT IN ('completed')") == 0);
        // Not due for a year, created long ago: old, but not finished.
        long waiting = jobs.insertOne(new NewJob(server.url("/page/later"), "127.0.0.1", "GET", null, null, 0, null,
                Duration.ofDays(365).toMillis(), 3, 10_000, 1 << 20, true, true, List.of(), false, null, null, null)).jobId();
        long agedInMixed = count("SELECT min(id) FROM fetchq.job WHERE batch_id = ?", mixedBatch);
        sql.sql("UPDATE fetchq.job SET finished_at = now() - interval '40 days' WHERE batch_id = ? OR id = ?")
                .param(oldBatch).param(agedInMixed).update();
        sql.sql("UPDATE fetchq.job SET created_at = now() - interval '41 days' WHERE id = ?").param(waiting).update();
        sql.sql("UPDATE fetchq.batch SET created_at = now() - interval '41 days'").update();
        assertThat(count("SELECT count(*) FROM fetchq.attempt")).isEqualTo(7);
        assertThat(count("SELECT count(*) FROM fetchq.body")).isEqualTo(7);

        // Two per statement: the pass keeps going until nothing past retention is left.
        long deleted = retention("batch-size", "2").runOnce();

        assertThat(deleted).isEqualTo(6);
        assertThat(count("SELECT count(*) FROM fetchq.job WHERE batch_id = ?", oldBatch)).isZero();
        assertThat(count("SELECT count(*) FROM fetchq.job WHERE id = ?", agedInMixed)).isZero();
        assertThat(count("SELECT count(*) FROM fetchq.attempt WHERE job_id <> ALL (SELECT id FROM fetchq.job)")).isZero();
        assertThat(count("SELECT count(*) FROM fetchq.body WHERE job_id <> ALL (SELECT id FROM fetchq.job)")).isZero();
        // The recent job of the mixed batch keeps its attempt and body; the batch stays for it.
        assertThat(count("SELECT count(*) FROM fetchq.attempt")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM fetchq.body")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM fetchq.batch WHERE id = ?", oldBatch)).isZero();
        Map<String, Object> progress = sql.sql("SELECT total, completed FROM fetchq.batch_progress WHERE batch_id = ?")
                .param(mixedBatch).query().singleRow();
        assertThat(progress).containsEntry("total", 2).containsEntry("completed", 1L);
        assertState(result(waiting), "queued");

        assertThat(retention("batch-size", "2").runOnce()).as("a second pass finds nothing").isZero();
    }

    @Test
    void jobsWithinRetentionAreKept() {
        jobs.insertBatch(pages("fresh", 3));
        startWorker(settings("host-limits[127.0.0.1]", "16"));
        await("every job final", Duration.ofSeconds(30),
                () -> count("SELECT count(*) FROM fetchq.job_results WHERE state NOT IN ('completed')") == 0);
        sql.sql("UPDATE fetchq.job SET finished_at = now() - interval '29 days'").update();

        assertThat(retention().runOnce()).isZero();
        assertThat(count("SELECT count(*) FROM fetchq.job")).isEqualTo(3);
        assertThat(count("SELECT count(*) FROM fetchq.attempt")).isEqualTo(3);
        assertThat(count("SELECT count(*) FROM fetchq.batch")).isEqualTo(1);
    }

    private static Retention retention(String... keyValues) {
        Map<String, String> map = new java.util.HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put("fetchq.retention." + keyValues[i], keyValues[i + 1]);
        }
        RetentionProperties properties = new Binder(new MapConfigurationPropertySource(map))
                .bindOrCreate("fetchq.retention", RetentionProperties.class);
        return new Retention(properties, new RetentionQueries(sql, new TransactionTemplate(new DataSourceTransactionManager(dataSource))));
    }
}
