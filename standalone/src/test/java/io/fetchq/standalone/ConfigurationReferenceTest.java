package io.fetchq.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.api.security.SecurityProperties;
import io.fetchq.url.FetchProperties;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.retention.RetentionProperties;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.type.filter.AnnotationTypeFilter;
import org.springframework.util.ClassUtils;

/** The README's configuration table names every setting of every fetchq settings class: it cannot drift. */
class ConfigurationReferenceTest {

    /** Every settings class of fetchq's, found on the class path: a new one cannot be forgotten. */
    private static List<Class<?>> settingsClasses() {
        ClassPathScanningCandidateComponentProvider scanner = new ClassPathScanningCandidateComponentProvider(false);
        scanner.addIncludeFilter(new AnnotationTypeFilter(ConfigurationProperties.class));
        return scanner.findCandidateComponents("io.fetchq").stream()
                .map(d -> ClassUtils.resolveClassName(d.getBeanClassName(), null))
                .<Class<?>>map(c -> c)
                .toList();
    }

    @Test
    void everySettingIsInTheReadme() throws IOException {
        List<Class<?>> found = settingsClasses();
        assertThat(found).extracting(Class::getSimpleName).contains("ApiProperties", "IntakeProperties")
                .hasSizeGreaterThanOrEqualTo(7);
        assertThat(found).contains(EmbeddedProperties.class, FetchProperties.class, WorkerProperties.class,
                RetentionProperties.class, SecurityProperties.class);
        String readme = Files.readString(Path.of("..", "README.md"));
        String table = readme.substring(readme.indexOf("## Configuration"), readme.indexOf("## How it works"));
        List<String> rows = table.lines().filter(l -> l.startsWith("| `")).toList();
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (Class<?> settings : found) {
            String prefix = settings.getAnnotation(ConfigurationProperties.class).value();
            for (RecordComponent component : settings.getRecordComponents()) {
                String name = kebab(component.getName());
                String full = prefix + "." + name;
                // A row names it in full ("`fetchq.x.name`", or "`fetchq.x.name.<key>`" for maps), or
                // shortly after another setting of the same group ("`fetchq.x.a` / `name`").
                boolean documented = rows.stream().anyMatch(r -> r.contains("`" + full + "`")
                        || r.contains("`" + full + ".") || r.contains("`" + full + "[")
                        || (r.startsWith("| `" + prefix + ".") && r.contains("/ `" + name + "`")));
                if (!documented) {
                    missing.add(full);
                }
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(40);
        assertThat(missing).as("settings missing from the README's configuration table").isEmpty();
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }
}
