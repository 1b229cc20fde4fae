package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.THROWABLE;

import io.fetchq.db.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.NestedExceptionUtils;

/**
 * Secure by default: outside the one-command mode on loopback, the API does not start without a
 * key unless told to serve anonymously, and then warns.
 */
@ExtendWith(OutputCaptureExtension.class)
class SecureStartupTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private static String[] args(String url, String... more) {
        String[] base = {"--server.port=0", "--spring.datasource.url=" + url, "--fetchq.worker.enabled=false",
            "--spring.main.banner-mode=off"};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    private int status(ConfigurableApplicationContext api, String path) throws Exception {
        int port = ((WebServerApplicationContext) api).getWebServer().getPort();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void withoutAnyKeyTheApiRefusesToStartAndSaysHowToMakeOne() throws Exception {
        String url = TestDatabase.newDatabase();
        assertThatThrownBy(() -> FetchqApiApplication.run(args(url)))
                .extracting(NestedExceptionUtils::getMostSpecificCause).asInstanceOf(THROWABLE).hasMessageContaining("No API key exists")
                .hasMessageContaining("fetchq.security.admin-key").hasMessageContaining("fetchq.create_api_key");

        // A key made in SQL, as the message says, is enough; and then only keys get in.
        TestDatabase.execute(url, "SELECT fetchq.create_api_key('default', '{read}', 'bootstrap')");
        try (ConfigurableApplicationContext api = FetchqApiApplication.run(args(url))) {
            assertThat(status(api, "/api/v1/jobs")).isEqualTo(401);
            assertThat(status(api, "/actuator/health")).isEqualTo(200);
            assertThat(status(api, "/v3/api-docs")).isEqualTo(200);
            assertThat(status(api, "/actuator/prometheus")).isEqualTo(401);
        }
        // Metrics and the API description follow configuration.
        try (ConfigurableApplicationContext api = FetchqApiApplication.run(args(url,
                "--fetchq.security.public-metrics=true", "--fetchq.security.public-docs=false"))) {
            assertThat(status(api, "/actuator/prometheus")).isEqualTo(200);
            assertThat(status(api, "/v3/api-docs")).isEqualTo(401);
            assertThat(status(api, "/swagger-ui/index.html")).isEqualTo(401);
            assertThat(status(api, "/api/v1/jobs")).isEqualTo(401);
        }
    }

    @Test
    void anAdminKeyTooShortToBeSafeStopsTheStart() {
        assertThatThrownBy(() -> FetchqApiApplication.run(args(TestDatabase.newDatabase(),
                "--fetchq.security.admin-key=short-key")))
                .extracting(NestedExceptionUtils::getMostSpecificCause).asInstanceOf(THROWABLE).hasMessageContaining("fetchq.security.admin-key must be at least 32 characters");
    }

    @Test
    void allowAnonymousOpensTheApiAndWarnsAtEveryStart(CapturedOutput output) throws Exception {
        String url = TestDatabase.newDatabase();
        for (int start = 1; start <= 2; start++) {
            try (ConfigurableApplicationContext api = FetchqApiApplication.run(args(url,
                    "--fetchq.security.allow-anonymous=true"))) {
                assertThat(status(api, "/api/v1/jobs")).isEqualTo(200);
                // Anyone on the network, but not another site's page in their browser.
                int port = ((WebServerApplicationContext) api).getWebServer().getPort();
                HttpResponse<String> crossSite = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/jobs/1/cancel"))
                        .header("Origin", "https://attacker.example").POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(crossSite.statusCode()).isEqualTo(403);
                assertThat(crossSite.body()).contains("another site");
            }
            assertThat(output.getAll().split("serves callers without an API key, with every scope", -1))
                    .as("warnings after start %d", start).hasSize(start + 1);
        }
        assertThat(output.getAll()).contains("WARN").contains("fetchq.security.allow-anonymous=true");
    }

    @Test
    void openOnLoopbackRefusesKeylessRequestsNamingAnotherHost() throws Exception {
        try (ConfigurableApplicationContext api = FetchqApiApplication.run(args(TestDatabase.newDatabase(),
                "--fetchq.security.allow-anonymous=true", "--server.address=127.0.0.1"))) {
            int port = ((WebServerApplicationContext) api).getWebServer().getPort();
            assertThat(ApiTestBase.statusWithHost(port, "/api/v1/jobs", "evil.example:" + port)).isEqualTo(403);
            assertThat(ApiTestBase.statusWithHost(port, "/api/v1/jobs", "127.0.0.1:" + port)).isEqualTo(200);
        }
    }

    @Test
    void anActuatorPortOfItsOwnIsRefusedUnlessMetricsArePublic() {
        assertThatThrownBy(() -> FetchqApiApplication.run(args(TestDatabase.newDatabase(),
                "--fetchq.security.allow-anonymous=true", "--management.server.port=0")))
                .extracting(NestedExceptionUtils::getMostSpecificCause).asInstanceOf(THROWABLE)
                .hasMessageContaining("management.server.port");
    }

    @Test
    void withoutADatabaseTheApiSaysWhereToFindOne() {
        assertThatThrownBy(() -> FetchqApiApplication.run("--spring.datasource.url=", "--server.port=0",
                "--spring.main.banner-mode=off"))
                .extracting(NestedExceptionUtils::getMostSpecificCause).asInstanceOf(THROWABLE)
                .hasMessageContaining("spring.datasource.url is not set").hasMessageContaining("standalone");
    }
}
