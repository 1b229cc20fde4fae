package io.fetchq.db;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * The columns of {@code fetchq.attempt} that both completion statements write, in one order:
 * {@code started, finished, status_code, content_type, body_bytes, error_kind, error_message,
 * dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms, remote_ip, redirects}. One binder for one attempt
 * ({@code NEXT_ATTEMPT}, scalars) and for a batch ({@code COMPLETE_MANY}, one array per column, null
 * for a release). Times travel as microseconds since the epoch.
 */
final class AttemptColumns {

    /** One column: its element type, and how to read it from an ended attempt. */
    private record Column<V>(String type, int sqlType, Function<Completion.Attempted, V> value,
            IntFunction<V[]> newArray) {

        void bind(PreparedStatement ps, int p, Completion.Attempted ended) throws SQLException {
            ps.setObject(p, value.apply(ended), sqlType);
        }

        void bind(Connection c, PreparedStatement ps, int p, List<? extends Completion> batch) throws SQLException {
            V[] values = newArray.apply(batch.size());
            for (int i = 0; i < values.length; i++) {
                values[i] = batch.get(i) instanceof Completion.Attempted a ? value.apply(a) : null;
            }
            ps.setArray(p, c.createArrayOf(type, values));
        }
    }

    private static final List<Column<?>> COLUMNS = List.of(
            new Column<>("int8", Types.BIGINT, a -> micros(a.attempt().startedAt()), Long[]::new),
            new Column<>("int8", Types.BIGINT, a -> micros(a.attempt().finishedAt()), Long[]::new),
            new Column<>("int4", Types.INTEGER, a -> a.attempt().statusCode(), Integer[]::new),
            new Column<>("text", Types.VARCHAR, a -> a.payload().contentType(), String[]::new),
            new Column<>("int8", Types.BIGINT, a -> a.payload().bodyBytes(), Long[]::new),
            new Column<>("text", Types.VARCHAR, a -> a.attempt().errorKind(), String[]::new),
            new Column<>("text", Types.VARCHAR, a -> a.attempt().errorMessage(), String[]::new),
            new Column<>("int4", Types.INTEGER, a -> a.attempt().dnsMs(), Integer[]::new),
            new Column<>("int4", Types.INTEGER, a -> a.attempt().connectMs(), Integer[]::new),
            new Column<>("int4", Types.INTEGER, a -> a.attempt().tlsMs(), Integer[]::new),
            new Column<>("int4", Types.INTEGER, a -> a.attempt().ttfbMs(), Integer[]::new),
            new Column<>("int4", Types.INTEGER, a -> a.attempt().totalMs(), Integer[]::new),
            new Column<>("text", Types.VARCHAR, a -> a.attempt().remoteIp(), String[]::new),
            new Column<>("text", Types.VARCHAR, a -> a.attempt().redirects(), String[]::new));

    /** How many parameters a bind takes. */
    static final int COUNT = COLUMNS.size();

    private AttemptColumns() {
    }

    /** Binds one attempt's columns as scalars from parameter {@code p}; returns the next parameter. */
    static int bind(PreparedStatement ps, int p, Completion.Attempted ended) throws SQLException {
        for (Column<?> column : COLUMNS) {
            column.bind(ps, p++, ended);
        }
        return p;
    }

    /** Binds a batch's attempt columns as arrays from parameter {@code p}; returns the next parameter. */
    static int bind(Connection c, PreparedStatement ps, int p, List<? extends Completion> batch) throws SQLException {
        for (Column<?> column : COLUMNS) {
            column.bind(c, ps, p++, batch);
        }
        return p;
    }

    /** The instant {@code micros} microseconds after the epoch. */
    static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }

    /** Microseconds since the epoch. */
    static Long micros(Instant t) {
        return t == null ? null : t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
    }
}
