package io.fetchq.bench;

import io.fetchq.db.testing.TestDatabase;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark harness. Runs each scenario {@code --runs} times (default 3) after an unrecorded
 * warm-up run, prints median and range, and writes them to {@code --out} (default
 * {@code docs/benchmarks.md}) with the machine, versions, the command and the targets.
 *
 * <pre>
 * scripts/bench.sh [--n=100000] [--runs=3] [--scenarios=bound,drain-noop,...] [--history=10000000]
 *                  [--pickup=1000] [--pickup-rate=50] [--in-flight=5000] [--memory-jvm=-Xmx256m]
 *                  [--out=docs/benchmarks.md]
 * </pre>
 * The database server comes from {@code FETCHQ_BENCH_DB_URL} (a server where databases may be
 * created), else as for the tests: {@code FETCHQ_TEST_DB_URL}, Testcontainers, embedded PostgreSQL.
 * The in-process workers run with the default settings unless {@code -Dbench.inflight},
 * {@code -Dbench.claim} or {@code -Dbench.completers} say otherwise (for exploring batch sizes).
 */
public final class Bench {

    /** A scenario prepared for its runs; each call measures one run. */
    interface Scenario extends AutoCloseable {
        /** Measures one run; a warm-up run may be smaller. Metrics in the order they are reported. */
        Map<String, Double> run(boolean warmUp) throws Exception;

        @Override
        default void close() throws Exception {
        }
    }

    interface Opener {
        Scenario open(Options options) throws Exception;
    }

    /** Jobs in the unrecorded warm-up run of the throughput scenarios. */
    static final int WARM_UP_JOBS = 20_000;

    /**
     * The harness's options.
     *
     * @param n jobs per run of the drain and enqueue scenarios
     * @param history finished jobs (each with an attempt) in the history scenario's database
     * @param pickup single jobs per pickup run
     * @param pickupRate pickup jobs submitted per second
     * @param inFlight concurrent slow fetches held by the memory scenario's worker
     * @param memoryJvm JVM options of the memory scenario's second worker
     */
    record Options(int n, int runs, int history, int pickup, int pickupRate, int inFlight, String memoryJvm, int urls,
            int submits) {
        int jobs(boolean warmUp) {
            return warmUp ? Math.min(n, WARM_UP_JOBS) : n;
        }
    }

    /** What a scenario is measured against: the target for this machine. */
    record Target(String text, java.util.function.BiPredicate<Double, Map<String, Result>> met) {
    }

    private static final Map<String, Opener> SCENARIOS = new LinkedHashMap<>();
    private static final Map<String, String> DESCRIPTIONS = new LinkedHashMap<>();
    private static final Map<String, Target> TARGETS = new LinkedHashMap<>();

    static {
        scenario("bound", Scenarios::bound, """
                %d connections each claiming %d jobs (`FOR UPDATE SKIP LOCKED`) and completing them in one \
                statement that deletes the queue rows, writes the job results and inserts the attempt and body \
                rows: the same writes per job as fetchq in drain-noop, with nothing else. The ceiling, measured in the same run.\
                """.formatted(Scenarios.BOUND_CONNECTIONS, Scenarios.BATCH));
        scenario("drain-noop", Scenarios::drainNoop, """
                The real worker (claims sized to free slots, per-host guards, retry policy, CPU pool, batched \
                fenced completion), in process, with a fetcher that answers at once; every attempt, result and \
                body written. Jobs spread over 1,000 hosts.""");
        scenario("drain-http", Scenarios::drainHttp, """
                The real worker and its OkHttp fetcher, in process, fetching every job's URL from a loopback \
                site in the same process (keep-alive, 2 KiB HTML page); title extracted, every result, attempt \
                and body stored. One host, so the per-host limit is raised to the worker's %d in flight.\
                """.formatted(Scenarios.HTTP_IN_FLIGHT));
        scenario("drain-http-e2e", EndToEnd::drainHttpE2e, """
                What a user gets from the jars: the API and workers as processes of their own, the site as \
                another (nginx when present: one 2 KiB page for every path), `--urls` URLs (default 20,000) as \
                one text batch, waited for with `GET /api/v1/batches/{id}?wait_ms=`, after a warm-up batch of up \
                to 20,000 URLs per worker on fresh workers; the POST's own time and the fetch phase (POST \
                answered to done) beside it; CPU µs and context switches per fetch of each process over the \
                timed batch, and of the workers' CPU the JIT compiler threads' part. In the same run, the \
                asyncio + aiohttp pattern it replaces (one `ClientSession`, `Semaphore(20)`, `gather`) on the \
                same kind of URLs, when a python3 with aiohttp is here. Variants: one worker at the defaults (8 \
                per host); one with `per-host=64`; two workers over two hosts (127.0.0.1, 127.0.0.2); four \
                workers over four hosts, at the defaults and with `per-host=64`.""");
        scenario("crawl-e2e", CrawlBench::crawlE2e, """
                A generated site of four loopback hosts (-Dbench.crawl-pages, default 100,000 pages) crawled from one \
                seed per host, same-host, obeying robots.txt: by the jars (one worker, 16 in flight per host) and by \
                Scrapy with ROBOTSTXT_OBEY=True at the same concurrency. Pages/s from the POST to done; links recorded/s.\
                """);
        scenario("history", Scenarios::history, """
                drain-noop in a database that already holds `--history` finished jobs with their attempts, one \
                in ten with a 2 KiB body (built once, vacuumed); ratio to drain-noop.""");
        scenario("retention", Scenarios::retention, """
                One retention pass (default settings: 5,000 jobs per statement) over `--n` jobs finished 40 days \
                ago, each with its attempt and one in ten with a 2 KiB body: jobs deleted per second.""");
        scenario("enqueue-db", Scenarios::enqueueDb, """
                One batch through the `db` layer's bulk insert (job and queue rows), as the API does after \
                validation.""");
        scenario("enqueue-text", Scenarios::enqueueText, """
                `POST /api/v1/batches` with `text/plain`, one URL per line, to the API jar launched as users \
                run it; client-side wall time of the request.""");
        scenario("enqueue-json", Scenarios::enqueueJson, """
                The same as `{"urls": [...]}`.""");
        scenario("submit-concurrent", Scenarios::submitConcurrent, """
                `--submits` single jobs (`POST /api/v1/jobs`, default 4,000) from %d clients at once, each \
                sending its next job as soon as the last is answered, to the launched API: many small callers, \
                one transaction each.""".formatted(Scenarios.SUBMIT_CLIENTS));
        scenario("pickup", Scenarios::pickup, """
                `--pickup` single jobs (`POST /api/v1/jobs`) at `--pickup-rate` per second into the launched \
                API with two idle launched workers; from SQL, created → first attempt started. The warm-up \
                run's 100 jobs are not counted.""");
        scenario("memory", Scenarios::memory, """
                Peak resident memory (`VmHWM`) of one launched worker holding `--in-flight` concurrent fetches \
                that the loopback site answers only once all are in flight, with the JVM's default heap sizing \
                (on this machine a heap of up to a quarter of its memory, so the collector has little reason to \
                run) and with `--memory-jvm` (a heap capped as one would in production); a fresh process each.""");
        scenario("schedules", Scenarios::schedules, """
                %,d schedules (fewer if `--n` is smaller) of one URL each (cron `* * * * *`), all due at the same minute, run by one process \
                as every worker's and API's schedule runner does: passes of 100 schedules a transaction, each \
                run a batch of its one job, until none is due. Runs per second, and the seconds from the first \
                pass to the last run (target: within the minute).""".formatted(Scenarios.SCHEDULES));
        TARGETS.put("drain-noop jobs/s", new Target("≥ 70 % of bound and ≥ 20,000",
                (v, all) -> v >= 20_000 && v >= 0.7 * median(all, "bound jobs/s")));
        TARGETS.put("drain-http jobs/s", new Target("≥ 8,000", (v, all) -> v >= 8_000));
        TARGETS.put("drain-http-e2e " + EndToEnd.DEFAULTS_RATIO, new Target("≥ 1.0", (v, all) -> v >= 1.0));
        TARGETS.put("drain-http-e2e " + EndToEnd.PER_HOST_64_RATIO, new Target("≥ 1.5", (v, all) -> v >= 1.5));
        for (String variant : List.of(EndToEnd.DEFAULTS, EndToEnd.PER_HOST_64, EndToEnd.TWO_BY_TWO, EndToEnd.FOUR_BY_FOUR,
                EndToEnd.FOUR_BY_FOUR_64)) {
            String name = "drain-http-e2e " + variant.replace(" fetches/s", "") + ": workers ";
            TARGETS.put(name + "CPU µs/fetch", new Target("≤ 120", (v, all) -> v <= 120));
            TARGETS.put(name + "switches/fetch", new Target("≤ 3", (v, all) -> v <= 3));
        }
        TARGETS.put("schedules s to run them all", new Target("≤ 60", (v, all) -> v <= 60));
        TARGETS.put("history jobs/s", new Target("≥ 90 % of drain-noop",
                (v, all) -> v >= 0.9 * median(all, "drain-noop jobs/s")));
        TARGETS.put("enqueue-text jobs/s", new Target("≥ 50,000", (v, all) -> v >= 50_000));
        TARGETS.put("pickup p50 ms", new Target("≤ 5", (v, all) -> v <= 5));
        TARGETS.put("pickup p99 ms", new Target("≤ 25", (v, all) -> v <= 25));
        TARGETS.put("memory peak RSS MiB", new Target("≤ 512", (v, all) -> v <= 512));
    }

    private static void scenario(String name, Opener opener, String description) {
        SCENARIOS.put(name, opener);
        DESCRIPTIONS.put(name, description);
    }

    /** One scenario's metric over its measured runs. */
    record Result(String scenario, String metric, int jobs, List<Double> runs) {
        String key() {
            return scenario + " " + metric;
        }

        double median() {
            List<Double> sorted = runs.stream().sorted().toList();
            return sorted.get(sorted.size() / 2);
        }

        double min() {
            return runs.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        }

        double max() {
            return runs.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }
    }

    private static double median(Map<String, Result> all, String key) {
        Result r = all.get(key);
        return r == null ? Double.NaN : r.median();
    }

    public static void main(String... args) throws Exception {
        Map<String, String> given = new LinkedHashMap<>(Map.of("n", "100000", "runs", "3",
                "scenarios", String.join(",", SCENARIOS.keySet()), "out", "docs/benchmarks.md",
                "history", "10000000", "pickup", "1000", "pickup-rate", "50", "in-flight", "5000"));
        given.put("memory-jvm", "-Xmx256m");
        given.put("urls", "20000");
        given.put("submits", "4000");
        for (String arg : args) {
            String[] kv = arg.replaceFirst("^--", "").split("=", 2);
            if (kv.length != 2 || !given.containsKey(kv[0])) {
                throw new IllegalArgumentException("unknown option " + arg + "; options: " + given.keySet());
            }
            given.put(kv[0], kv[1]);
        }
        String benchDb = System.getenv("FETCHQ_BENCH_DB_URL");
        if (benchDb != null && !benchDb.isBlank()) {
            System.setProperty("fetchq.test.db-url", benchDb);
        }
        Options options = new Options(Integer.parseInt(given.get("n")), Integer.parseInt(given.get("runs")),
                Integer.parseInt(given.get("history")), Integer.parseInt(given.get("pickup")),
                Integer.parseInt(given.get("pickup-rate")), Integer.parseInt(given.get("in-flight")),
                given.get("memory-jvm"), Integer.parseInt(given.get("urls")), Integer.parseInt(given.get("submits")));
        List<String> names = List.of(given.get("scenarios").split(",")).stream().map(String::strip).toList();
        for (String name : names) {
            if (!SCENARIOS.containsKey(name)) {
                throw new IllegalArgumentException("unknown scenario " + name + "; scenarios: " + SCENARIOS.keySet());
            }
        }
        Map<String, Result> results = new LinkedHashMap<>();
        for (String name : names) {
            System.out.println(name + ":");
            Map<String, List<Double>> measured = new LinkedHashMap<>();
            try (Scenario scenario = SCENARIOS.get(name).open(options)) {
                // One unrecorded run first, so that the measured ones do not pay for class loading and JIT.
                scenario.run(true);
                for (int r = 0; r < options.runs(); r++) {
                    Map<String, Double> run = scenario.run(false);
                    run.forEach((metric, value) -> measured.computeIfAbsent(metric, m -> new ArrayList<>()).add(value));
                    System.out.printf(Locale.ROOT, "  run %d: %s%n", r + 1, format(run));
                }
            }
            measured.forEach((metric, runs) -> {
                Result result = new Result(name, metric, jobs(name, options), runs);
                results.put(result.key(), result);
            });
        }
        String report = report(results, given, args);
        System.out.println(report);
        Path out = Path.of(given.get("out"));
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, report + keptNotes(out));
    }

    /** Marks where a report's hand-written notes begin; the harness keeps them when it rewrites the file. */
    static final String NOTES_MARKER = "<!-- Notes below this line are kept when scripts/bench.sh rewrites this file. -->";

    private static String keptNotes(Path out) throws IOException {
        if (!Files.exists(out)) {
            return "";
        }
        String previous = Files.readString(out);
        int at = previous.indexOf(NOTES_MARKER);
        return at < 0 ? "" : "\n" + previous.substring(at);
    }

    private static int jobs(String scenario, Options options) {
        return switch (scenario) {
            case "pickup" -> options.pickup();
            case "submit-concurrent" -> options.submits();
            case "memory" -> options.inFlight();
            case "drain-http-e2e" -> options.urls();
            case "crawl-e2e" -> CrawlBench.PAGES;
            case "schedules" -> Scenarios.scheduleCount(options);
            default -> options.n();
        };
    }

    private static String format(Map<String, Double> run) {
        StringBuilder text = new StringBuilder();
        run.forEach((metric, value) -> text.append(String.format(Locale.ROOT, "%s%,.1f %s",
                text.isEmpty() ? "" : ", ", value, metric)));
        return text.toString();
    }

    static String report(Map<String, Result> results, Map<String, String> options, String[] args) throws IOException {
        StringBuilder md = new StringBuilder("# fetchq benchmarks\n\n");
        md.append("Measured ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(" with\n\n```\nscripts/bench.sh");
        for (String arg : args) {
            md.append(' ').append(arg);
        }
        md.append("\n```\n\n");
        md.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(totalMemoryGib()).append(" GiB; Java ").append(System.getProperty("java.version"))
                .append("; PostgreSQL ").append(postgresVersion()).append(" (").append(TestDatabase.server().source())
                .append("); fetchq at commit ").append(commit()).append(".\n\n");
        md.append("Each scenario ran ").append(options.get("runs")).append(" times after an unrecorded warm-up run; ")
                .append("median and range. The database, the harness, the loopback site and any launched API or ")
                .append("worker share the machine's cores, and the machine is shared and noisy: compare the ratios ")
                .append("within one run.\n\n");
        md.append("| scenario | jobs | metric | median | range | ratio | target |\n|---|---|---|---|---|---|---|\n");
        for (Result r : results.values()) {
            // A metric qualified by its settings, "metric (settings)", has the target of the metric.
            Target target = TARGETS.getOrDefault(r.key(), TARGETS.get(r.key().replaceFirst(" \\(.*\\)$", "")));
            String verdict = target == null ? "" : target.text() + (target.met().test(r.median(), results) ? " ✓" : " ✗");
            md.append(String.format(Locale.ROOT, "| %s | %,d | %s | %,.1f | %,.1f – %,.1f | %s | %s |%n", r.scenario(),
                    r.jobs(), r.metric(), r.median(), r.min(), r.max(), ratio(r, results), verdict));
        }
        md.append("\n");
        for (String name : results.values().stream().map(Result::scenario).distinct().toList()) {
            md.append("- **").append(name).append("**: ").append(DESCRIPTIONS.get(name)).append('\n');
        }
        return md.toString();
    }

    private static String ratio(Result r, Map<String, Result> all) {
        String base = switch (r.key()) {
            case "drain-noop jobs/s" -> "bound jobs/s";
            case "history jobs/s" -> "drain-noop jobs/s";
            default -> null;
        };
        double of = base == null ? Double.NaN : median(all, base);
        return Double.isNaN(of) ? "" : String.format(Locale.ROOT, "%.0f %% of %s", 100 * r.median() / of,
                base.substring(0, base.indexOf(' ')));
    }

    private static String postgresVersion() {
        try (var c = java.sql.DriverManager.getConnection(TestDatabase.server().adminUrl());
                var rs = c.createStatement().executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1);
        } catch (java.sql.SQLException e) {
            return "?";
        }
    }

    private static String commit() {
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String out = new String(git.getInputStream().readAllBytes()).strip();
            return git.waitFor() == 0 ? out : "unknown";
        } catch (IOException | InterruptedException e) {
            return "unknown";
        }
    }

    private static long totalMemoryGib() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return Math.round(os.getTotalMemorySize() / (1024.0 * 1024 * 1024));
    }
}
