package io.fetchq.standalone;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The embedded PostgreSQL that the API starts when no {@code spring.datasource.url} is set.
 *
 * @param enabled start it when no datasource is configured. Default true; false makes a missing
 *     datasource a startup error instead.
 * @param dataDirectory where it keeps its data, kept between runs. Default
 *     {@code ~/.fetchq/postgres}.
 * @param port the loopback port it listens on. Default 54329, away from a system PostgreSQL on
 *     5432; 0 picks any free port.
 */
@Validated
@ConfigurationProperties("fetchq.embedded")
public record EmbeddedProperties(
        @DefaultValue("true") boolean enabled,
        Path dataDirectory,
        @DefaultValue("54329") @Min(0) @Max(65535) int port) {

    public EmbeddedProperties {
        if (dataDirectory == null) {
            dataDirectory = Path.of(System.getProperty("user.home"), ".fetchq", "postgres");
        }
    }
}
