package io.fetchq.api;

import io.fetchq.db.DbConfiguration;
import io.fetchq.url.UrlConfiguration;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;

/**
 * The fetchq REST API, on the PostgreSQL that {@code spring.datasource.url} names. The one-command
 * mode, with a database of its own, is module {@code standalone}.
 */
@SpringBootApplication
@Import({DbConfiguration.class, UrlConfiguration.class})
@EnableConfigurationProperties({IntakeProperties.class, ApiProperties.class})
public class FetchqApiApplication {

    public static void main(String[] args) {
        run(args);
    }

    /** Starts the API as {@code java -jar} does. */
    public static ConfigurableApplicationContext run(String... args) {
        SpringApplication app = new SpringApplication(FetchqApiApplication.class);
        app.addListeners((ApplicationListener<ApplicationEnvironmentPreparedEvent>) FetchqApiApplication::requireDatabase);
        return app.run(args);
    }

    /** Fails at once, saying what to do, when no database is configured. */
    private static void requireDatabase(ApplicationEnvironmentPreparedEvent event) {
        String url = event.getEnvironment().getProperty("spring.datasource.url");
        if (url == null || url.isBlank()) {
            throw new IllegalStateException("spring.datasource.url is not set: point the API at a PostgreSQL "
                    + "database (SPRING_DATASOURCE_URL), or run the one-command mode, which has one of its own: "
                    + "java -jar standalone/target/fetchq.jar");
        }
    }
}
