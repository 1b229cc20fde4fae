package io.fetchq.db;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;

/** Connections outside the application's pool. */
public final class DbConnections {

    private DbConnections() {
    }

    /**
     * A connection of its own, outside the pool, for a {@code LISTEN} that lives as long as the
     * application and must not take a slot from the pool. It has the pool's URL, credentials and
     * driver properties (SSL, the bounds of {@code fetchq.db.*}, ...).
     */
    public static Connection dedicated(DataSource dataSource) {
        try {
            if (dataSource instanceof HikariDataSource hikari) {
                Properties props = new Properties();
                props.putAll(hikari.getDataSourceProperties());
                if (hikari.getUsername() != null) {
                    props.setProperty("user", hikari.getUsername());
                }
                if (hikari.getPassword() != null) {
                    props.setProperty("password", hikari.getPassword());
                }
                return DriverManager.getConnection(hikari.getJdbcUrl(), props);
            }
            return dataSource.getConnection();
        } catch (SQLException e) {
            throw new IllegalStateException("could not open a connection to listen on: " + e.getMessage(), e);
        }
    }
}
