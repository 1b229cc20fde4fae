package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fetchq.db.testing.TestDatabase;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The dashboard in a real headless Chromium, against the API with its in-process worker and a
 * loopback site: load it, submit a batch, watch it complete, open a failed job and see why.
 * Screenshots go to {@code api/target/dashboard-screenshots}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "fetchq.worker.enabled=true", "fetchq.worker.poll-interval=100ms",
        "fetchq.fetch.allowed-networks=127.0.0.0/8", "fetchq.api.stats-max-age=0s",
        "fetchq.security.admin-key=" + DashboardTest.ADMIN_KEY})
@DirtiesContext
class DashboardTest {

    static final String ADMIN_KEY = "dashboard-admin-key-0123456789abcdef";
    private static final Path SHOTS = Path.of("target", "dashboard-screenshots");

    private static HttpServer site;
    private static WebDriver browser;

    @LocalServerPort
    int port;

    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.jdbc.core.simple.JdbcClient sql;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        // A database of its own: this context's worker must not take other tests' jobs.
        String url = TestDatabase.newDatabase();
        registry.add("spring.datasource.url", () -> url);
    }

    @BeforeAll
    static void start() throws IOException {
        String chromium = System.getenv().getOrDefault("CHROME_BIN", "/usr/bin/chromium");
        String driver = System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver");
        Assumptions.assumeTrue(new File(chromium).canExecute() && new File(driver).canExecute(),
                "needs chromium and chromedriver (apt-get install chromium chromium-driver; .ci/run does)");
        site = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        site.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            // /crawl/0 links to /crawl/1 and /crawl/2, for a crawl.
            String links = path.equals("/crawl/0") ? "<a href=\"/crawl/1\">1</a> <a href=\"/crawl/2\">2</a>" : "hello";
            byte[] body = ("<html><head><title>Page " + path + "</title></head><body>" + links + "</body></html>")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        site.start();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(new File(driver)).build(),
                options);
        Files.createDirectories(SHOTS);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (site != null) {
            site.stop(0);
        }
    }

    private WebElement await(By by) {
        return new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> {
            List<WebElement> found = d.findElements(by);
            return found.isEmpty() ? null : found.getFirst();
        });
    }

    private void awaitText(By by, String text) {
        new WebDriverWait(browser, Duration.ofSeconds(30))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(d -> d.findElements(by).stream().anyMatch(e -> e.getText().contains(text)));
    }

    /** Clicks what {@code by} finds, finding it again if the page redrew it meanwhile (the overview does every 2 s). */
    private void click(By by) {
        new WebDriverWait(browser, Duration.ofSeconds(30))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(d -> {
                    List<WebElement> found = d.findElements(by);
                    if (found.isEmpty()) {
                        return false;
                    }
                    found.getFirst().click();
                    return true;
                });
    }

    private static void screenshot(String name) throws IOException {
        Files.write(SHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    void submitABatchWatchItCompleteAndOpenAFailedJob() throws IOException, InterruptedException {
        String pages = IntStream.range(0, 5).mapToObj(i -> "http://127.0.0.1:" + site.getAddress().getPort() + "/page/" + i)
                .collect(Collectors.joining("\n"));
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }

        // The API needs a key: the page asks for one, keeps it for the tab, and sends it.
        browser.get("http://127.0.0.1:" + port + "/");
        await(By.id("key-input"));
        assertThat(browser.findElement(By.id("key-message")).getText()).contains("API key");
        screenshot("0-key");
        browser.findElement(By.id("key-input")).sendKeys("fq_wrong-key-000000000000000000000000000000000");
        browser.findElement(By.id("key-button")).click();
        awaitText(By.id("key-message"), "unknown or revoked");
        browser.findElement(By.id("key-input")).clear();
        browser.findElement(By.id("key-input")).sendKeys(ADMIN_KEY);
        browser.findElement(By.id("key-button")).click();
        new WebDriverWait(browser, Duration.ofSeconds(30))
                .until(d -> !d.findElement(By.id("stat-queued")).getText().equals("–"));
        browser.findElement(By.id("submit-urls")).sendKeys(pages + "\nhttp://127.0.0.1:" + closed + "/gone\n");
        WebElement attempts = browser.findElement(By.id("submit-attempts"));
        attempts.clear();
        attempts.sendKeys("1");
        browser.findElement(By.id("submit-button")).click();
        WebElement created = await(By.id("submit-batch"));
        screenshot("1-submitted");

        created.click();
        await(By.cssSelector("#batch-counts[data-done='true']"));
        assertThat(browser.findElement(By.id("batch-counts")).getText()).startsWith("5 completed, 1 failed");
        assertThat(browser.findElements(By.cssSelector("#batch-jobs tr[data-state='completed']"))).hasSize(5);
        awaitText(By.cssSelector("#batch-jobs tr[data-state='completed']"), "Page /page/");
        screenshot("2-batch-done");

        browser.findElement(By.cssSelector("#batch-jobs tr[data-state='failed'] a")).click();
        awaitText(By.id("job-state"), "failed");
        assertThat(browser.findElement(By.id("job-error-kind")).getText()).isEqualTo("connect");
        assertThat(browser.findElements(By.cssSelector("#attempts tr.attempt"))).hasSize(1);
        screenshot("3-failed-job");

        browser.findElement(By.cssSelector("h2 a")).click();
        await(By.cssSelector("#batch-jobs tr[data-state='completed'] a")).click();
        awaitText(By.id("job-state"), "completed");
        assertThat(browser.findElement(By.id("job-body")).getText()).contains("bytes");
        assertThat(browser.findElements(By.cssSelector("#attempts .timeline span"))).isNotEmpty();
        screenshot("4-completed-job");

        browser.get("http://127.0.0.1:" + port + "/#/");
        await(By.cssSelector("#batches tr[data-done='true']"));
        awaitText(By.id("failures"), "connect");
        awaitText(By.id("hosts"), "127.0.0.1");
        assertThat(browser.findElement(By.id("stat-completed")).getText()).isEqualTo("5");
        screenshot("5-overview");

        // An admin pauses a host for the whole fleet from its row, and resumes it.
        click(By.cssSelector("#hosts tr[data-host='127.0.0.1'] button.pause-host"));
        awaitText(By.cssSelector("#hosts tr[data-host='127.0.0.1'] button.pause-host"), "Resume");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.host WHERE host = '127.0.0.1' AND paused_until > now()")
                .query(Long.class).single()).isEqualTo(1);
        await(By.cssSelector("#hosts tr[data-host='127.0.0.1'][data-state='paused']"));
        screenshot("5b-host-paused");
        click(By.cssSelector("#hosts tr[data-host='127.0.0.1'] button.pause-host"));
        awaitText(By.cssSelector("#hosts tr[data-host='127.0.0.1'] button.pause-host"), "Pause");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.host WHERE host = '127.0.0.1' AND paused_until IS NOT NULL")
                .query(Long.class).single()).isZero();

        // A job with a secret header: the page shows the header's name, never its value.
        String secret = "dashboard-secret-" + java.util.UUID.randomUUID();
        HttpResponse<String> secretJob = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/api/v1/jobs"))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"http://127.0.0.1:" + site.getAddress().getPort()
                        + "/private\", \"headers\": {\"Authorization\": \"Bearer " + secret + "\", \"Accept\": \"text/html\"}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(secretJob.statusCode()).isEqualTo(201);
        String id = secretJob.body().replaceAll("^\\{\"id\":(\\d+),.*", "$1");
        browser.get("http://127.0.0.1:" + port + "/#/jobs/" + id);
        awaitText(By.id("job-headers"), "Authorization: [redacted]");
        assertThat(browser.findElement(By.id("job-headers")).getText()).contains("Accept: text/html");
        assertThat(browser.getPageSource()).doesNotContain(secret);
        screenshot("6-redacted-headers");

        // Schedules: create one from the page; its first run shows as its last batch; pause it, run it now.
        browser.get("http://127.0.0.1:" + port + "/#/schedules");
        await(By.id("schedule-form"));
        browser.findElement(By.id("schedule-name")).sendKeys("dashboard uptime");
        browser.findElement(By.id("schedule-when")).sendKeys("PT1H");
        browser.findElement(By.id("schedule-urls")).sendKeys("http://127.0.0.1:" + site.getAddress().getPort() + "/watched\n");
        browser.findElement(By.id("schedule-button")).click();
        awaitText(By.id("schedule-result"), "Created schedule");
        await(By.cssSelector("#schedules tr[data-paused='false'] a.last-batch"));
        assertThat(browser.findElement(By.cssSelector("#schedules tr td.when")).getText()).isEqualTo("every PT1H");
        screenshot("7-schedules");
        click(By.cssSelector("#schedules button.toggle-schedule"));
        await(By.cssSelector("#schedules tr[data-paused='true']"));
        assertThat(sql.sql("SELECT paused FROM fetchq.schedule WHERE name = 'dashboard uptime'").query(Boolean.class).single())
                .isTrue();
        click(By.cssSelector("#schedules button.run-schedule"));
        awaitText(By.id("batch-schedule"), "run of schedule #");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.batch b JOIN fetchq.schedule s ON s.id = b.schedule_id"
                + " WHERE s.name = 'dashboard uptime'").query(Long.class).single()).isEqualTo(2);

        // A crawl started from its page, followed to the end.
        browser.get("http://127.0.0.1:" + port + "/#/crawls");
        await(By.id("crawl-form"));
        browser.findElement(By.id("crawl-seeds")).sendKeys("http://127.0.0.1:" + site.getAddress().getPort() + "/crawl/0");
        browser.findElement(By.id("crawl-button")).click();
        await(By.cssSelector("#crawl-state[data-done='true']"));
        assertThat(browser.findElement(By.id("crawl-state")).getText()).isEqualTo("completed");
        assertThat(browser.findElement(By.cssSelector("#crawl-counts tr[data-count='fetched'] td")).getText()).isEqualTo("3");
        assertThat(browser.findElements(By.cssSelector("#crawl-pages tr[data-state='completed']"))).hasSize(3);
        screenshot("8-crawl");
        browser.get("http://127.0.0.1:" + port + "/#/crawls");
        await(By.cssSelector("#crawls tr[data-state='completed']"));

        // Forgetting the key asks for one again.
        browser.findElement(By.id("forget-key")).click();
        await(By.id("key-input"));
    }
}
