package io.fetchq.standalone;

import io.fetchq.api.FetchqApiApplication;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

/**
 * fetchq in one command: the API and a worker in one process and, unless {@code spring.datasource.url}
 * names a database, an embedded PostgreSQL 17 whose data survives restarts. Listens on loopback only
 * unless {@code server.address} says otherwise.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(EmbeddedProperties.class)
public class FetchqStandalone {

    public static void main(String[] args) {
        run(args);
    }

    /** Starts everything as {@code java -jar fetchq.jar} does. */
    public static ConfigurableApplicationContext run(String... args) {
        SpringApplication app = new SpringApplication(FetchqApiApplication.class, FetchqStandalone.class);
        app.addListeners(new EmbeddedDatabaseLauncher());
        return app.run(args);
    }
}
