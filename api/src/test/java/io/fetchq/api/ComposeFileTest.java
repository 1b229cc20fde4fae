package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.fetchq.worker.WorkerProperties;
import io.fetchq.worker.attempt.AttemptRunner;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml cannot be run here (no Docker engine), so it is checked by reading: the
 * services exist, point at each other consistently, and build the jars this repository produces.
 */
class ComposeFileTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    private static Map<String, Object> compose() throws IOException {
        return new Yaml(new LoaderOptions()).load(Files.readString(ROOT.resolve("docker-compose.yml")));
    }

    @Test
    void postgresIs17WithAHealthcheckAndAVolume() throws IOException {
        Map<String, Object> postgres = map(map(compose().get("services")).get("postgres"));
        assertThat((String) postgres.get("image")).startsWith("postgres:17");
        assertThat(map(postgres.get("healthcheck")).get("test").toString()).contains("pg_isready");
        assertThat((List<String>) postgres.get("volumes")).anyMatch(v -> v.endsWith(":/var/lib/postgresql/data"));
    }

    @Test
    void apiAndWorkerUseThePostgresServiceAndItsCredentials() throws IOException {
        Map<String, Object> services = map(compose().get("services"));
        Map<String, Object> pgEnv = map(map(services.get("postgres")).get("environment"));
        for (String app : List.of("api", "worker")) {
            Map<String, Object> service = map(services.get(app));
            Map<String, Object> env = map(service.get("environment"));
            assertThat(env.get("SPRING_DATASOURCE_URL"))
                    .as(app).isEqualTo("jdbc:postgresql://postgres:5432/" + pgEnv.get("POSTGRES_DB"));
            assertThat(env.get("SPRING_DATASOURCE_USERNAME")).as(app).isEqualTo(pgEnv.get("POSTGRES_USER"));
            assertThat(env.get("SPRING_DATASOURCE_PASSWORD")).as(app).isEqualTo(pgEnv.get("POSTGRES_PASSWORD"));
            assertThat(map(map(service.get("depends_on")).get("postgres")).get("condition"))
                    .as(app).isEqualTo("service_healthy");
        }
    }

    @Test
    void eachAppBuildsItsOwnJarFromTheRepositoryRoot() throws IOException {
        Map<String, Object> services = map(compose().get("services"));
        for (String app : List.of("api", "worker")) {
            Map<String, Object> build = map(map(services.get(app)).get("build"));
            assertThat(build.get("context")).isEqualTo(".");
            Path dockerfile = ROOT.resolve((String) build.get("dockerfile"));
            assertThat(dockerfile).exists();
            String text = Files.readString(dockerfile);
            assertThat(text).contains("-pl " + app + " -am package")
                    .contains("/src/" + app + "/target/fetchq-" + app + ".jar")
                    .containsPattern("ENTRYPOINT \\[\"java\".*fetchq-" + app + "\\.jar\"\\]");
            assertThat(ROOT.resolve(app).resolve("pom.xml")).exists();
            assertThat(Files.readString(ROOT.resolve(app).resolve("pom.xml")))
                    .contains("<finalName>fetchq-" + app + "</finalName>");
        }
    }

    @Test
    void workersScale() throws IOException {
        Map<String, Object> worker = map(map(compose().get("services")).get("worker"));
        // A fixed name or a published port would stop `--scale worker=N` from starting a second one.
        assertThat(worker).doesNotContainKeys("container_name", "ports");
        assertThat(map(map(compose().get("services")).get("api")).get("ports").toString()).contains("8080:8080");
    }

    /** The API's admin key in compose: a development default, long enough to be accepted. */
    private static String developmentKey() throws IOException {
        Map<String, Object> api = map(map(compose().get("services")).get("api"));
        String setting = (String) map(api.get("environment")).get("FETCHQ_SECURITY_ADMIN_KEY");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\$\\{FETCHQ_API_KEY:-(.+)}$").matcher(setting);
        assertThat(m.matches()).as("FETCHQ_SECURITY_ADMIN_KEY is ${FETCHQ_API_KEY:-default}: %s", setting).isTrue();
        return m.group(1);
    }

    @Test
    void theApiRunsWithADevelopmentKeyLongEnoughToStart() throws IOException {
        assertThat(developmentKey()).hasSizeGreaterThanOrEqualTo(32);
        assertThat(Files.readString(ROOT.resolve("docker-compose.yml"))).contains(developmentKey());
        assertThat(map(map(map(compose().get("services")).get("worker")).get("environment")))
                .doesNotContainKey("FETCHQ_SECURITY_ADMIN_KEY");
    }

    @Test
    void monitoringProfileScrapesTheApiAndEveryWorkerAndGraphsDocumentedMetrics() throws IOException {
        Map<String, Object> services = map(compose().get("services"));
        for (String tool : List.of("prometheus", "grafana")) {
            Map<String, Object> service = map(services.get(tool));
            assertThat((List<String>) service.get("profiles")).as(tool).containsExactly("monitoring");
            for (String volume : (List<String>) service.get("volumes")) {
                assertThat(ROOT.resolve(volume.substring(0, volume.indexOf(':')))).as(tool + " mounts").exists();
            }
        }
        Map<String, Object> prometheus = new Yaml(new LoaderOptions()).load(
                Files.readString(ROOT.resolve("monitoring/prometheus.yml")));
        String scrape = prometheus.get("scrape_configs").toString();
        String workerPort = new Yaml(new LoaderOptions()).<Map<String, Object>>load(Files.readString(
                ROOT.resolve("worker/src/main/resources/application.yaml"))).get("server").toString();
        assertThat(workerPort).contains("port=8081");
        assertThat(scrape).contains("metrics_path=/actuator/prometheus").contains("targets=[api:8080]")
                .contains("names=[worker]").contains("port=8081");
        // The API needs a key for its metrics: Prometheus sends the development key compose sets.
        String key = developmentKey();
        assertThat(scrape).contains("authorization={type=Bearer, credentials=" + key + "}");

        // Every metric the dashboard graphs is one the README documents (and the API and worker
        // tests scrape).
        String dashboard = Files.readString(ROOT.resolve("monitoring/grafana/dashboards/fetchq.json"));
        String readme = Files.readString(ROOT.resolve("README.md"));
        String monitoring = readme.substring(readme.indexOf("## Monitoring"), readme.indexOf("## Configuration"));
        java.util.regex.Matcher metric = java.util.regex.Pattern.compile("(fetchq|resilience4j)_[a-z_]+").matcher(dashboard);
        int found = 0;
        while (metric.find()) {
            String name = metric.group().replaceAll("_(bucket|total)$", "");
            assertThat(monitoring).as("README documents %s", metric.group()).containsPattern(name + "(_|\\b|\\{)");
            found++;
        }
        assertThat(found).isGreaterThan(10);
    }

    /**
     * After SIGTERM a worker lets fetches finish for its grace, then cancels what is left (waiting up
     * to the stop wait for their outcomes) and writes everything before it exits: the container
     * must be given longer than that, or the hand-back itself is killed and its jobs wait out
     * their leases with an attempt burnt.
     */
    @Test
    void workersAreGivenLongerToStopThanTheirGraceAndTheHandBack() throws IOException {
        Map<String, Object> worker = map(map(compose().get("services")).get("worker"));
        Duration period = Duration.parse("PT" + worker.get("stop_grace_period").toString().toUpperCase(Locale.ROOT));
        Duration grace = new Binder(new MapConfigurationPropertySource(Map.of()))
                .bindOrCreate("fetchq.worker", WorkerProperties.class).shutdownGrace();
        Duration writing = Duration.ofSeconds(10);
        assertThat(period).as("stop_grace_period").isGreaterThanOrEqualTo(grace.plus(AttemptRunner.STOP_WAIT).plus(writing));
    }
}
