package io.fetchq.db;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import org.springframework.jdbc.core.RowMapper;

/**
 * One row of the public view {@code fetchq.attempts}; also the REST representation of an attempt
 * (the record's fields inline).
 */
public record AttemptRow(long jobId, int attempt, String workerId, @JsonUnwrapped AttemptRecord record) {

    static final RowMapper<AttemptRow> ROWS = AttemptRow::read;

    private static AttemptRow read(ResultSet rs, int n) throws SQLException {
        OffsetDateTime started = rs.getObject("started_at", OffsetDateTime.class);
        OffsetDateTime finished = rs.getObject("finished_at", OffsetDateTime.class);
        return new AttemptRow(rs.getLong("job_id"), rs.getInt("attempt"), rs.getString("worker_id"), new AttemptRecord(
                started == null ? null : started.toInstant(), finished == null ? null : finished.toInstant(),
                rs.getObject("status_code", Integer.class), rs.getString("error_kind"), rs.getString("error_message"),
                rs.getObject("dns_ms", Integer.class), rs.getObject("connect_ms", Integer.class),
                rs.getObject("tls_ms", Integer.class), rs.getObject("ttfb_ms", Integer.class),
                rs.getObject("total_ms", Integer.class), rs.getString("remote_ip"), rs.getString("redirects")));
    }
}
