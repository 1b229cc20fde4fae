package io.fetchq.db;

import java.sql.Array;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;

/** Statement parameters that carry one column of many rows as an array. */
final class SqlArrays {

    private SqlArrays() {
    }

    /**
     * One column of a batch as an array parameter. Typed element arrays ({@code Long[]},
     * {@code String[]}, {@code byte[][]}, ...) go to the server in binary: nothing to format here or
     * to parse there. (UUIDs travel as text: the driver has no binary form for their arrays.)
     */
    static <T, V> Array array(Connection c, String type, List<T> rows, Function<T, V> column,
            IntFunction<V[]> newArray) throws SQLException {
        V[] values = newArray.apply(rows.size());
        for (int i = 0; i < values.length; i++) {
            values[i] = column.apply(rows.get(i));
        }
        return c.createArrayOf(type, values);
    }
}
