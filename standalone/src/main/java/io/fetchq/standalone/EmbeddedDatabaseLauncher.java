package io.fetchq.standalone;

import io.fetchq.api.OneCommandMode;
import io.fetchq.embedded.EmbeddedDatabase;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.event.ApplicationFailedEvent;
import org.springframework.boot.context.event.ApplicationPreparedEvent;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * One-command mode: when no {@code spring.datasource.url} is configured, starts an embedded
 * PostgreSQL 17 whose data survives restarts, points the datasource at it, runs a worker in the process and listens on
 * loopback only unless {@code server.address} says otherwise.
 *
 * <p>Registered by {@link FetchqStandalone} only, so the plain API and deployments that configure a
 * datasource never start one. The server is registered as a bean that the datasource depends on,
 * so that it stops after everything that uses the database has shut down.
 */
final class EmbeddedDatabaseLauncher implements ApplicationListener<ApplicationEvent> {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabaseLauncher.class);
    static final String BEAN_NAME = "fetchqEmbeddedDatabase";

    private EmbeddedDatabase database;
    /** Stops the database if the JVM exits before the application context has taken it over. */
    private Thread untilOwned;

    @Override
    public void onApplicationEvent(ApplicationEvent event) {
        switch (event) {
            case ApplicationEnvironmentPreparedEvent e -> start(e.getEnvironment());
            case ApplicationPreparedEvent e -> register(e);
            case ApplicationStartedEvent e -> owned();
            case ApplicationFailedEvent e -> stop();
            default -> {
            }
        }
    }

    private void start(ConfigurableEnvironment environment) {
        String url = environment.getProperty("spring.datasource.url");
        EmbeddedProperties properties = Binder.get(environment)
                .bindOrCreate("fetchq.embedded", EmbeddedProperties.class);
        if ((url != null && !url.isBlank()) || !properties.enabled()) {
            return;
        }
        log.info("No spring.datasource.url configured: starting embedded PostgreSQL 17 on port {} with data in {}",
                properties.port(), properties.dataDirectory());
        // Stopped by this application, after the data source (see register): not at JVM exit, which
        // would race the graceful shutdown and take the database from a worker finishing its jobs.
        database = EmbeddedDatabase.start(properties.dataDirectory(), properties.port(), false);
        untilOwned = new Thread(this::stop, "fetchq-embedded-database-stop");
        Runtime.getRuntime().addShutdownHook(untilOwned);
        environment.getPropertySources().addFirst(new MapPropertySource("fetchq-embedded-database", Map.of(
                "spring.datasource.url", database.jdbcUrl(),
                "spring.datasource.username", "postgres")));
        // The one-command mode runs a worker in this process and listens on loopback only, where
        // it may serve without API keys. These defaults sit below every other source, so
        // fetchq.worker.enabled=false or server.address=0.0.0.0 anywhere overrides them (and an
        // address other than loopback then needs keys).
        environment.getPropertySources().addLast(new MapPropertySource("fetchq-embedded-defaults", Map.of(
                "fetchq.worker.enabled", "true",
                "server.address", "127.0.0.1")));
        log.info("Embedded PostgreSQL is up at {}", database.jdbcUrl());
    }

    private void register(ApplicationPreparedEvent event) {
        if (database == null) {
            return;
        }
        if (event.getApplicationContext().getBeanFactory() instanceof DefaultListableBeanFactory beans) {
            beans.registerSingleton(BEAN_NAME, database);
            beans.registerSingleton("fetchqOneCommandMode", new OneCommandMode(database.jdbcUrl()));
            beans.registerDisposableBean(BEAN_NAME, this::stop);
            // Destroy the datasource (and so everything using it) before the server.
            beans.registerDependentBean(BEAN_NAME, "dataSource");
        }
    }

    /** Started: the context (and its shutdown hook) now stops the database, after its users. */
    private synchronized void owned() {
        if (untilOwned != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(untilOwned);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already exiting: the hook runs
            }
            untilOwned = null;
        }
    }

    private synchronized void stop() {
        if (database != null) {
            log.info("Stopping embedded PostgreSQL");
            database.close();
            database = null;
        }
    }
}
