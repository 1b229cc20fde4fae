package io.fetchq.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fetchq.embedded.EmbeddedDatabase;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
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
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code fetchq} command against the API jar in its one-process mode (API and worker), fetching
 * from a loopback site: submit with a progress bar, status, results as CSV, get one URL, and the
 * refusals.
 */
class CliTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    static Path work;

    private static EmbeddedDatabase database;
    private static Process api;
    private static HttpServer site;
    private static String apiUrl;

    /** What one run of the command left. */
    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void start() throws Exception {
        site = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        site.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            int status = path.startsWith("/missing") ? 404 : 200;
            String title = path.startsWith("/unicode/") ? unicodeTitle(path.substring(9)) : "page " + path;
            String links = "";
            if (path.startsWith("/tree/")) {
                // A binary tree of pages for crawls: /tree/n links to /tree/2n and /tree/2n+1, up to 63.
                int n = Integer.parseInt(path.substring(6));
                links = n < 32 ? "<a href=\"/tree/" + 2 * n + "\">l</a><a href=\"/tree/" + (2 * n + 1) + "\">r</a>" : "";
            }
            byte[] body = ("<html><head><title>" + title + "</title></head><body>" + links + "</body></html>")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        site.start();
        int pgPort = freePort();
        database = EmbeddedDatabase.start(work.resolve("pg"), pgPort);
        int apiPort = freePort();
        apiUrl = "http://127.0.0.1:" + apiPort;
        Path log = Files.createDirectories(ROOT.resolve("e2e/target/e2e-logs")).resolve("cli-api.log");
        api = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m",
                "-XX:TieredStopAtLevel=1", "-jar", ROOT.resolve("api/target/fetchq-api.jar").toString(),
                "--server.port=" + apiPort, "--spring.datasource.url=" + database.jdbcUrl(),
                "--fetchq.worker.enabled=true", "--fetchq.worker.poll-interval=100ms",
                "--fetchq.fetch.allow-private-networks=true", "--fetchq.security.admin-key=" + ADMIN_KEY))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        Awaitility.await("API up").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(apiUrl + "/actuator/health")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        });
    }

    @AfterAll
    static void stop() {
        if (api != null) {
            api.destroyForcibly();
        }
        if (database != null) {
            database.close();
        }
        if (site != null) {
            site.stop(0);
        }
    }

    static final String ADMIN_KEY = "cli-test-admin-key-0123456789abcdef";

    private static Run fetchq(String... args) {
        return fetchqAs(ADMIN_KEY, args);
    }

    /** The command with this API key (none when null). */
    private static Run fetchqAs(String key, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new java.util.ArrayList<>(List.of("--api=" + apiUrl));
        if (key != null) {
            all.add("--api-key=" + key);
        }
        all.addAll(List.of(args));
        int exit = Fetchq.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    private static String site(String path) {
        return "http://127.0.0.1:" + site.getAddress().getPort() + path;
    }

    @Test
    void submitWaitStatusAndResults() throws IOException {
        Path urls = work.resolve("urls.txt");
        Files.writeString(urls, "# twenty pages and one missing\n" + IntStream.range(0, 20)
                .mapToObj(i -> site("/page/" + i)).collect(Collectors.joining("\n")) + "\n" + site("/missing/1") + "\n");

        Run submit = fetchq("submit", urls.toString(), "--wait", "--extract=title", "--max-attempts=2");
        assertThat(submit.exit()).as(submit.err()).isZero();
        assertThat(submit.out()).containsPattern("batch \\d+: 21 jobs").contains("21 completed, 0 failed").contains("(done)");
        assertThat(submit.err()).as("the progress bar").contains("100%").contains("21/21");
        String batch = submit.out().replaceAll("(?s)^batch (\\d+):.*", "$1");

        assertThat(fetchq("status", batch).out()).contains("batch " + batch + ": 21 completed");

        Run csv = fetchq("results", batch, "--csv", "--fields=url,status_code,title");
        assertThat(csv.exit()).isZero();
        List<String> lines = csv.out().lines().toList();
        assertThat(lines).hasSize(22).first().isEqualTo("url,status_code,title");
        assertThat(lines).contains(site("/page/3") + ",200,page /page/3", site("/missing/1") + ",404,page /missing/1");

        Run ndjson = fetchq("results", batch, "--fields=job_id,state");
        assertThat(ndjson.out().lines()).hasSize(21).allMatch(l -> l.contains("\"state\":\"completed\""));
    }

    /** A title of multi-byte characters, longer than fetchq keeps (1,000 characters). */
    private static String unicodeTitle(String n) {
        return "日本語 " + n + " " + "Ünïcödé ✓ 日本語".repeat(100);
    }

    @Test
    void resultsKeepMultiByteTextWholeAcrossReads() throws IOException {
        Path urls = work.resolve("unicode.txt");
        Files.writeString(urls, IntStream.range(0, 100).mapToObj(i -> site("/unicode/" + i))
                .collect(Collectors.joining("\n")) + "\n");
        Run submit = fetchq("submit", urls.toString(), "--wait", "--extract=title");
        assertThat(submit.exit()).as(submit.err()).isZero();
        String batch = submit.out().replaceAll("(?s)^batch (\\d+):.*", "$1");
        Run csv = fetchq("results", batch, "--csv", "--fields=title");
        // ~300 KB of three-byte characters: the stream arrives in many reads.
        assertThat(csv.out().length()).isGreaterThan(90_000);
        assertThat(csv.out().lines().skip(1).toList()).containsExactlyElementsOf(IntStream.range(0, 100)
                .mapToObj(i -> unicodeTitle(Integer.toString(i)).substring(0, 1000)).toList());
    }

    @Test
    void getFetchesOneUrlAndPrintsItsResult() {
        Run get = fetchq("get", site("/one"));
        assertThat(get.exit()).as(get.err()).isZero();
        assertThat(get.out()).contains("\"state\" : \"completed\"").contains("\"status_code\" : 200")
                .contains("\"title\" : \"page /one\"");
    }

    @Test
    void refusalsNameWhatIsWrongAndExitWithTwo() throws IOException {
        Path bad = work.resolve("bad.txt");
        Files.writeString(bad, site("/fine") + "\nftp://example.com/file\n");
        Run submit = fetchq("submit", bad.toString());
        assertThat(submit.exit()).isEqualTo(Fetchq.REFUSED);
        assertThat(submit.err()).contains("HTTP 400").contains("line 2");

        Run missing = fetchq("status", "999999");
        assertThat(missing.exit()).isEqualTo(Fetchq.REFUSED);
        assertThat(missing.err()).contains("HTTP 404");

        StringWriter err = new StringWriter();
        int away = Fetchq.run(new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                "--api=http://127.0.0.1:" + freePort(), "status", "1");
        assertThat(away).isEqualTo(Fetchq.REFUSED);
        assertThat(err.toString()).contains("cannot reach the fetchq API");
    }

    @Test
    void schedulesAreCreatedListedRunPausedAndResumed() {
        Run created = fetchq("schedules", "create", "--name=cli uptime", "--every=PT1H", "--catch-up=one",
                "--extract=title", site("/watched/1"), site("/watched/2"));
        assertThat(created.exit()).as(created.err()).isZero();
        long id = Long.parseLong(created.out().strip());
        assertThat(created.err()).contains("schedule " + id + ": 2 URLs, next run");

        // Every PT1H from its creation: the first run is at once, made by the API's schedule runner.
        Awaitility.await("first run").atMost(Duration.ofSeconds(30)).until(() ->
                fetchq("schedules", "list").out().lines().anyMatch(l -> l.startsWith(id + "\t") && l.contains("batch ")));
        Run list = fetchq("schedules", "list");
        assertThat(list.exit()).isZero();
        assertThat(list.out()).contains(id + "\tcli uptime\tevery PT1H\tUTC\tactive\t");

        Run run = fetchq("schedules", "run", String.valueOf(id));
        assertThat(run.exit()).as(run.err()).isZero();
        long batch = Long.parseLong(run.out().strip());
        Awaitility.await("the run's fetches").atMost(Duration.ofSeconds(30)).until(() ->
                fetchq("status", String.valueOf(batch)).out().contains("2 completed, 0 failed"));

        assertThat(fetchq("schedules", "pause", String.valueOf(id)).out()).contains("paused");
        assertThat(fetchq("schedules", "list").out()).contains("\tpaused\t-\t");
        assertThat(fetchq("schedules", "resume", String.valueOf(id)).out()).contains("resumed, next run");

        Run bad = fetchq("schedules", "create", "--name=bad", "--cron=0 0 * * * *", site("/x"));
        assertThat(bad.exit()).isEqualTo(Fetchq.REFUSED);
        assertThat(bad.err()).contains("HTTP 400").contains("5 fields");
        Run missing = fetchq("schedules", "pause", "999999");
        assertThat(missing.exit()).isEqualTo(Fetchq.REFUSED);
        assertThat(missing.err()).contains("HTTP 404");
    }

    @Test
    void aCrawlFollowsLinksWithAProgressBarUntilItIsDone() {
        Run run = fetchq("crawl", site("/tree/1"), "--max-pages=20", "--max-depth=10", "--wait");

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).containsPattern("crawl \\d+: 1 seeds, at most 20 pages")
                .contains("20 fetched, 0 failed, 20 enqueued").contains("(completed)");
        assertThat(run.err()).contains("20/20 pages").contains("pages/s");

        Run bad = fetchq("crawl", site("/tree/1"), "--scope=everywhere");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("/scope");
    }

    @Test
    void webhooksAreCreatedListedAndTheirDeliveriesShown() throws IOException {
        Run created = fetchq("webhooks", "create", site("/hooks/cli"), "--event=batch.completed,job.failed",
                "--description=cli hooks");
        assertThat(created.exit()).as(created.err()).isZero();
        long id = Long.parseLong(created.out().strip());
        assertThat(created.err()).contains("webhook " + id + ": signing secret whsec_").contains("never shown again");
        assertThat(fetchq("webhooks", "list").out())
                .contains(id + "\t" + site("/hooks/cli") + "\tbatch.completed,job.failed\tenabled");

        Path urls = work.resolve("hooked.txt");
        Files.writeString(urls, site("/hooked/1") + "\n");
        assertThat(fetchq("submit", urls.toString(), "--wait").exit()).isZero();
        Awaitility.await("the batch's completion delivered").atMost(Duration.ofSeconds(30)).until(() ->
                fetchq("webhooks", "deliveries", String.valueOf(id)).out().contains("\tdelivered\t1 attempts\tHTTP 200"));
        assertThat(fetchq("webhooks", "deliveries", String.valueOf(id)).out()).contains("\tbatch.completed evt_");

        Run bad = fetchq("webhooks", "create", site("/hooks/bad"), "--event=job.exploded");
        assertThat(bad.exit()).isEqualTo(Fetchq.REFUSED);
        assertThat(bad.err()).contains("HTTP 400").contains("unknown event type");
        Run missing = fetchq("webhooks", "deliveries", "999999");
        assertThat(missing.exit()).isEqualTo(Fetchq.REFUSED);
        assertThat(missing.err()).contains("HTTP 404");
    }

    @Test
    void keysAreCreatedUsedAndRevokedAndHeadersTravelInTheBody() throws IOException {
        Run created = fetchq("keys", "create", "--tenant=cli", "--scope=submit,read", "--name=cli test");
        assertThat(created.exit()).as(created.err()).isZero();
        String key = created.out().strip();
        assertThat(key).startsWith("fq_");
        assertThat(created.err()).contains("not shown again").contains("tenant cli");

        Path urls = work.resolve("tenant.txt");
        Files.writeString(urls, site("/tenant/1") + "\n");
        Run submit = fetchqAs(key, "submit", urls.toString(), "--wait", "--header", "Authorization: Bearer cli-secret");
        assertThat(submit.exit()).as(submit.err()).isZero();
        String batch = submit.out().replaceAll("(?s)^batch (\\d+):.*", "$1");
        assertThat(fetchqAs(key, "status", batch).out()).contains("1 completed");

        Run listed = fetchq("keys", "list");
        String id = listed.out().lines().filter(l -> l.contains("\tcli\t")).findFirst().orElseThrow().split("\t")[0];
        assertThat(listed.out()).contains(key.substring(0, 11) + "…").doesNotContain(key.substring(11));
        assertThat(fetchqAs(key, "keys", "list").err()).contains("HTTP 403");
        assertThat(fetchq("keys", "revoke", id).out()).contains("key " + id + " revoked");

        Run revoked = fetchqAs(key, "status", batch);
        assertThat(revoked.exit()).isEqualTo(Fetchq.REFUSED);
        assertThat(revoked.err()).contains("HTTP 401").contains("FETCHQ_API_KEY");
        assertThat(fetchqAs(null, "status", batch).err()).contains("HTTP 401");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
