package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.Concurrently;
import io.fetchq.db.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

class MigrationsTest {

    /** The public views and their columns, in order, exactly as the design names them (and api_keys). */
    private static final List<List<String>> VIEWS = List.of(
            List.of("job_results", "job_id", "batch_id", "url", "host", "method", "state", "priority", "attempts",
                    "max_attempts", "metadata", "status_code", "content_type", "body_bytes", "body_truncated",
                    "body_sha256", "title", "links", "final_url", "error_kind", "error_message", "created_at",
                    "next_attempt_at", "started_at", "finished_at", "total_ms", "etag", "last_modified", "not_modified",
                    "changed", "crawl_id", "depth", "parent_job_id"),
            List.of("attempts", "job_id", "attempt", "worker_id", "started_at", "finished_at", "status_code",
                    "error_kind", "error_message", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms",
                    "remote_ip", "redirects"),
            List.of("batch_progress", "batch_id", "total", "queued", "running", "completed", "failed", "cancelled",
                    "done", "created_at", "finished_at", "schedule_id", "nominal_time"),
            List.of("schedules", "schedule_id", "name", "cron", "every", "time_zone", "catch_up", "paused", "next_run_at",
                    "last_run_at", "last_batch_id", "created_at"),
            List.of("job_bodies", "job_id", "content_type", "body"),
            List.of("webhook_deliveries", "delivery_id", "webhook_id", "event_type", "event_id", "attempt", "status_code",
                    "error", "created_at", "delivered_at", "next_attempt_at"),
            List.of("crawl_links", "crawl_id", "from_job_id", "to_url", "to_job_id", "skipped"),
            List.of("robots", "origin", "fetched_at", "status_code", "expires_at", "crawl_delay_ms", "body_bytes",
                    "good_at", "error", "unreachable_since"),
            List.of("workers", "worker_id", "hostname", "pid", "started_at", "last_seen_at", "in_flight", "state"),
            List.of("api_keys", "id", "tenant", "name", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"));

    static Flyway flyway(String url) {
        return Flyway.configure()
                .dataSource(url, null, null)
                .schemas("fetchq")
                .defaultSchema("fetchq")
                .createSchemas(true)
                .locations("classpath:db/migration")
                .load();
    }

    @Test
    void migrationsCreateThePublicViewsWithTheirContractColumns() throws SQLException {
        String url = TestDatabase.newDatabase();
        flyway(url).migrate();
        try (Connection c = DriverManager.getConnection(url)) {
            for (List<String> view : VIEWS) {
                List<String> columns = new ArrayList<>();
                try (var ps = c.prepareStatement("""
                        SELECT column_name FROM information_schema.columns
                        WHERE table_schema = 'fetchq' AND table_name = ? ORDER BY ordinal_position""")) {
                    ps.setString(1, view.getFirst());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            columns.add(rs.getString(1));
                        }
                    }
                }
                assertThat(columns).as("columns of fetchq.%s", view.getFirst())
                        .containsExactlyElementsOf(view.subList(1, view.size()));
            }
        }
    }

    @Test
    void severalApplicationsMigratingAtOnceApplyEachMigrationOnce() throws Exception {
        String url = TestDatabase.newDatabase();
        List<MigrateResult> results = Concurrently.run(4, i -> () -> flyway(url).migrate());
        int applied = 0;
        for (MigrateResult result : results) {
            assertThat(result.success).isTrue();
            applied += result.migrationsExecuted;
        }
        long versions = Arrays.stream(flyway(url).info().applied()).filter(m -> m.getVersion() != null).count();
        assertThat((long) applied).as("migrations executed over all starters").isEqualTo(versions);
        try (Connection c = DriverManager.getConnection(url);
                ResultSet rs = c.createStatement().executeQuery(
                        "SELECT count(*), count(DISTINCT version) FROM fetchq.flyway_schema_history WHERE success AND version IS NOT NULL")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(rs.getInt(2));
        }
    }
}
