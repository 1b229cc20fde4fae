package io.fetchq.db;

import com.zaxxer.hikari.HikariDataSource;
import java.util.Properties;
import javax.sql.DataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.flyway.autoconfigure.FlywayConfigurationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;

/**
 * What the {@code db} module contributes to an application: its queries, and the bounds of
 * {@link DbProperties} on the application's connection pool.
 */
@Configuration(proxyBeanMethods = false)
@ComponentScan(basePackageClasses = DbConfiguration.class)
@EnableConfigurationProperties({DbProperties.class, SchedulesProperties.class})
public class DbConfiguration {

    /**
     * Sets {@link DbProperties}' bounds on the pool's driver, where the configuration
     * ({@code spring.datasource.hikari.data-source-properties.*}) does not set them itself.
     */
    @Bean
    static BeanPostProcessor fetchqDatabaseBounds(Environment environment) {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String name) {
                if (bean instanceof HikariDataSource hikari) {
                    DbProperties bounds = Binder.get(environment).bindOrCreate("fetchq.db", DbProperties.class);
                    applyTo(hikari, bounds);
                }
                return bean;
            }
        };
    }

    /** Sets the bounds on {@code hikari}'s driver, keeping any property the configuration already sets. */
    public static void applyTo(HikariDataSource hikari, DbProperties bounds) {
        Properties set = hikari.getDataSourceProperties();
        bounds.driverProperties().forEach((key, value) -> {
            if (!set.containsKey(key)) {
                hikari.addDataSourceProperty((String) key, value);
            }
        });
    }

    /** Bean name of the "new jobs" notifications to workers. */
    public static final String JOBS_NOTIFIER = "fetchqJobsNotifier";

    /** Bean name of the "jobs finished" notifications to waiting requests ({@link Finished}). */
    public static final String FINISHED_NOTIFIER = "fetchqFinishedNotifier";

    /** The "new jobs" notifications to workers, sent after commit and coalesced. */
    @Bean(name = JOBS_NOTIFIER, destroyMethod = "close")
    Notifier fetchqJobsNotifier(JdbcTemplate jdbc, DbProperties properties) {
        return new Notifier(jdbc, JobQueries.NOTIFY_CHANNEL, properties.notifyInterval());
    }

    /** The "jobs finished" notifications, sent after the writes that finish jobs commit, coalesced. */
    @Bean(name = FINISHED_NOTIFIER, destroyMethod = "close")
    Notifier fetchqFinishedNotifier(JdbcTemplate jdbc, DbProperties properties) {
        return new Notifier(jdbc, Finished.CHANNEL, properties.notifyInterval());
    }

    /**
     * Migrations on a connection of their own, with the pool's URL and credentials but without the
     * statement and socket timeouts: an index built over a long history may take minutes.
     */
    @Bean
    FlywayConfigurationCustomizer fetchqMigrationsWithoutTimeouts(DataSource dataSource) {
        return configuration -> {
            if (dataSource instanceof HikariDataSource hikari && hikari.getJdbcUrl() != null) {
                Properties props = new Properties();
                props.putAll(hikari.getDataSourceProperties());
                props.remove("socketTimeout");
                Object options = props.get("options");
                if (options != null && options.toString().startsWith("-c statement_timeout=")) {
                    props.remove("options");
                }
                if (hikari.getUsername() != null) {
                    props.setProperty("user", hikari.getUsername());
                }
                if (hikari.getPassword() != null) {
                    props.setProperty("password", hikari.getPassword());
                }
                configuration.dataSource(new SimpleDriverDataSource(new org.postgresql.Driver(), hikari.getJdbcUrl(), props));
            }
        };
    }
}
