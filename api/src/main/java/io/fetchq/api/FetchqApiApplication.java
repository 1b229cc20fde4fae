package io.fetchq.api;

import io.fetchq.db.DbConfiguration;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;

/** The fetchq REST API. Without a configured datasource it runs an embedded PostgreSQL. */
@SpringBootApplication
@Import(DbConfiguration.class)
@EnableConfigurationProperties({IntakeProperties.class, ApiProperties.class, EmbeddedProperties.class})
public class FetchqApiApplication {

    public static void main(String[] args) {
        run(args);
    }

    /** Starts the API as {@code java -jar} does, embedded database included. */
    public static ConfigurableApplicationContext run(String... args) {
        SpringApplication app = new SpringApplication(FetchqApiApplication.class);
        app.addListeners(new EmbeddedDatabaseLauncher());
        return app.run(args);
    }
}
