package io.fetchq.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import org.springframework.jdbc.core.RowMapper;

/**
 * One row of the public view {@code fetchq.job_results}, with the job's tenant and request headers
 * (null where a query leaves them out); JSON columns as text.
 */
public record JobRow(
        long jobId,
        Long batchId,
        String url,
        String host,
        String method,
        JobState state,
        int priority,
        int attempts,
        int maxAttempts,
        String metadata,
        JobResult result,
        OffsetDateTime createdAt,
        OffsetDateTime nextAttemptAt,
        OffsetDateTime startedAt,
        OffsetDateTime finishedAt,
        String tenant,
        String headers,
        Long crawlId,
        Integer depth,
        Long parentJobId) {

    /** Reads a row of {@code fetchq.job_results} (plus {@code tenant} and {@code headers}). */
    static final RowMapper<JobRow> ROWS = JobRow::read;

    private static JobRow read(ResultSet rs, int n) throws SQLException {
        JobResult result = new JobResult(rs.getObject("status_code", Integer.class), rs.getString("content_type"),
                rs.getObject("body_bytes", Long.class), rs.getObject("body_truncated", Boolean.class),
                rs.getString("body_sha256"), rs.getString("title"), rs.getString("links"), rs.getString("final_url"),
                rs.getString("error_kind"), rs.getString("error_message"), rs.getObject("total_ms", Integer.class),
                rs.getString("etag"), rs.getObject("last_modified", OffsetDateTime.class),
                rs.getObject("not_modified", Boolean.class), rs.getObject("changed", Boolean.class));
        String state = rs.getString("state");
        return new JobRow(rs.getLong("job_id"), rs.getObject("batch_id", Long.class), rs.getString("url"),
                rs.getString("host"), rs.getString("method"),
                JobState.of(state).orElseThrow(() -> new IllegalStateException("unknown job state " + state)),
                rs.getInt("priority"), rs.getInt("attempts"), rs.getInt("max_attempts"), rs.getString("metadata"),
                result, rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("next_attempt_at", OffsetDateTime.class), rs.getObject("started_at", OffsetDateTime.class),
                rs.getObject("finished_at", OffsetDateTime.class), rs.getString("tenant"), rs.getString("headers"),
                rs.getObject("crawl_id", Long.class), rs.getObject("depth", Integer.class),
                rs.getObject("parent_job_id", Long.class));
    }
}
