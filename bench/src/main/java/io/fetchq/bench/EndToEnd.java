package io.fetchq.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code drain-http-e2e}: what a user gets from the jars. The API and the workers run as processes
 * of their own ({@link Launched}), the site as another ({@link TargetSite}); URLs go in as one text
 * batch and the run waits with {@code GET /api/v1/batches/{id}?wait_ms=}. Each run measures, one
 * after the other on the same kind of URLs: the asyncio + aiohttp pattern (when a python3 with
 * aiohttp is here), one worker at the defaults, one worker with {@code per-host=64}, two
 * workers over two hosts, and four workers over four hosts at {@code per-host} 8 and 64 (each host's
 * limit shared by the four). Each fetchq variant starts fresh workers and drains a warm-up batch first.
 */
final class EndToEnd {

    /** The seed's pattern: {@code Semaphore(20)}. */
    static final int AIOHTTP_CONCURRENCY = 20;
    /** URLs of each variant in the harness's unrecorded warm-up run (it warms the API and the site up). */
    static final int WARM_UP_RUN_URLS = 2_000;

    /**
     * URLs per worker of the batch that warms each variant's fresh workers up before the measured one
     * (at most the measured batch's size per worker): enough for each worker's JIT to have compiled the fetch path, so that the
     * measured batch shows the steady state rather than the compiler (a worker's C2 threads used
     * more than half of its CPU during a measured batch that followed a 2,000-URL warm-up).
     * {@code -Dbench.worker-warm-up=0} measures cold workers instead.
     */
    static final int WARM_UP_URLS = Integer.getInteger("bench.worker-warm-up", 20_000);

    static final String AIOHTTP = "aiohttp fetches/s";
    static final String DEFAULTS = "1 worker, defaults fetches/s";
    static final String PER_HOST_64 = "1 worker, per-host=64 fetches/s";
    static final String TWO_BY_TWO = "2 workers, 2 hosts fetches/s";
    static final String FOUR_BY_FOUR = "4 workers, 4 hosts fetches/s";
    static final String FOUR_BY_FOUR_64 = "4 workers, 4 hosts, per-host=64 fetches/s";
    static final String DEFAULTS_RATIO = "defaults ÷ aiohttp";
    static final String PER_HOST_64_RATIO = "per-host=64 ÷ aiohttp";

    /**
     * JVM options for the launched workers, from {@code -Dbench.worker-jvm="..."} (separated by spaces or semicolons; for
     * a profile, e.g. {@code -XX:StartFlightRecording=filename=/tmp/w%p.jfr}).
     */
    private static final List<String> WORKER_JVM = System.getProperty("bench.worker-jvm", "").isBlank() ? List.of()
            : List.of(System.getProperty("bench.worker-jvm").trim().split("[\\s;]+"));

    /**
     * The variants to run, from {@code -Dbench.e2e-variants=aiohttp,defaults,...} (the names before
     * " fetches/s", lower case, spaces and commas as dashes); all when absent. For a profile of one.
     */
    private static final List<String> VARIANTS = System.getProperty("bench.e2e-variants", "").isBlank() ? List.of()
            : List.of(System.getProperty("bench.e2e-variants").trim().split("\\s*,\\s*"));

    private EndToEnd() {
    }

    /** Whether variant {@code metric} is to run. */
    static boolean runs(String metric) {
        String name = metric.replace(" fetches/s", "").toLowerCase(java.util.Locale.ROOT).replaceAll("[ ,]+", "-");
        return VARIANTS.isEmpty() || VARIANTS.contains(name);
    }

    static Bench.Scenario drainHttpE2e(Bench.Options options) throws Exception {
        BenchDatabase db = new BenchDatabase();
        TargetSite site = TargetSite.start();
        int port = Launched.freePort();
        Launched api = Launched.api(db.url, port);
        String python = python("aiohttp");
        System.out.println("    site: " + site.kind() + "; aiohttp: " + (python == null ? "none here" : python));
        HttpClient http = HttpClient.newHttpClient();
        int[] next = {0};
        int[] workerNumber = {0};
        return new Bench.Scenario() {
            @Override
            public Map<String, Double> run(boolean warmUp) throws Exception {
                int n = warmUp ? Math.min(options.urls(), WARM_UP_RUN_URLS) : options.urls();
                Map<String, Double> run = new LinkedHashMap<>();
                if (python != null && runs(AIOHTTP)) {
                    aiohttp(python, urls(site, List.of(TargetSite.HOSTS.getFirst()), next, n), run);
                }
                fetchq(DEFAULTS, run, 1, List.of(TargetSite.HOSTS.getFirst()), n);
                fetchq(PER_HOST_64, run, 1, List.of(TargetSite.HOSTS.getFirst()), n, "--fetchq.worker.per-host=64");
                fetchq(TWO_BY_TWO, run, 2, TargetSite.HOSTS.subList(0, 2), n);
                if (!warmUp) {
                    // Four workers share each host's limit (fleet-wide politeness): 8, then 64, in flight
                    // per host. Not in the unrecorded warm-up run: each variant warms its fresh workers up
                    // itself, and sixteen JVM starts would double the warm-up for nothing.
                    fetchq(FOUR_BY_FOUR, run, 4, TargetSite.HOSTS, n);
                    fetchq(FOUR_BY_FOUR_64, run, 4, TargetSite.HOSTS, n, "--fetchq.worker.per-host=64");
                }
                if (run.containsKey(AIOHTTP) && run.containsKey(DEFAULTS)) {
                    run.put(DEFAULTS_RATIO, run.get(DEFAULTS) / run.get(AIOHTTP));
                }
                if (run.containsKey(AIOHTTP) && run.containsKey(PER_HOST_64)) {
                    run.put(PER_HOST_64_RATIO, run.get(PER_HOST_64) / run.get(AIOHTTP));
                }
                return run;
            }

            /**
             * Fresh workers with these settings: a warm-up batch, then {@code n} URLs timed from submit to
             * done, put in {@code run} as {@code metric}; beside it, where {@code /proc} is readable, the
             * CPU and context switches per fetch of the workers, the API, PostgreSQL and the site over
             * the timed batch.
             */
            private void fetchq(String metric, Map<String, Double> run, int workers, List<String> hosts, int n,
                    String... settings) throws Exception {
                if (!runs(metric)) {
                    return;
                }
                List<Launched> started = new ArrayList<>();
                try {
                    String prefix = "e2e-" + (++workerNumber[0]) + "-";
                    for (int w = 0; w < workers; w++) {
                        started.add(Launched.worker(prefix + w, db.url, WORKER_JVM, settings));
                    }
                    Scenarios.await(() -> db.count("SELECT count(*) FROM fetchq.workers WHERE state = 'running'"
                            + " AND worker_id LIKE '" + prefix + "%'") == workers, Duration.ofSeconds(120), "workers to start");
                    if (WARM_UP_URLS > 0) {
                        drain(urls(site, hosts, next, Math.min(n, WARM_UP_URLS) * workers));
                    }
                    List<String> urls = urls(site, hosts, next, n);
                    Map<String, ProcessCpu.Usage> before = usage(started);
                    Drained drained = drain(urls);
                    run.put(metric, n / drained.seconds());
                    String variant = metric.replace(" fetches/s", "");
                    run.put(variant + ": POST s", drained.postSeconds());
                    run.put(variant + ": fetch phase fetches/s",
                            n / (drained.seconds() - drained.postSeconds()));
                    if (!before.isEmpty()) {
                        usage(started).forEach((who, after) -> {
                            ProcessCpu.Usage used = after.minus(before.get(who));
                            run.put(variant + ": " + who + " CPU µs/fetch", used.cpuMicros() / (double) n);
                            run.put(variant + ": " + who + " switches/fetch", used.switches() / (double) n);
                            if (who.equals("workers")) {
                                run.put(variant + ": workers' JIT CPU µs/fetch", used.compilerMicros() / (double) n);
                            }
                        });
                    }
                } finally {
                    for (Launched worker : started) {
                        worker.close();
                    }
                }
            }

            /** CPU and context switches so far of the workers, the API, PostgreSQL and the site; none without /proc. */
            private Map<String, ProcessCpu.Usage> usage(List<Launched> workers) {
                Map<String, ProcessCpu.Usage> usage = new LinkedHashMap<>();
                if (!ProcessCpu.available()) {
                    return usage;
                }
                ProcessCpu.Usage all = new ProcessCpu.Usage(0, 0, 0);
                for (Launched worker : workers) {
                    all = all.plus(ProcessCpu.tree(worker.pid()));
                }
                usage.put("workers", all);
                usage.put("API", ProcessCpu.tree(api.pid()));
                usage.put("PostgreSQL", ProcessCpu.named("postgres"));
                usage.put("site", ProcessCpu.tree(site.pid()));
                return usage;
            }

            /** Seconds from submitting the batch to the API saying it is done, and of those the POST's own. */
            private Drained drain(List<String> urls) throws Exception {
                long started = System.nanoTime();
                HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/api/v1/batches")).header("Content-Type", "text/plain")
                        .POST(HttpRequest.BodyPublishers.ofString(String.join("\n", urls))).build(),
                        HttpResponse.BodyHandlers.ofString());
                Scenarios.check(created.statusCode() == 201, "the batch was refused: " + created.body());
                double postSeconds = (System.nanoTime() - started) / 1e9;
                String id = field(created.body(), "id");
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
                while (true) {
                    String batch = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/api/v1/batches/" + id + "?wait_ms=60000")).build(), HttpResponse.BodyHandlers.ofString()).body();
                    if (field(batch, "done").equals("true")) {
                        double seconds = (System.nanoTime() - started) / 1e9;
                        Scenarios.check(field(batch, "completed").equals(Integer.toString(urls.size())),
                                "every URL completed: " + batch);
                        return new Drained(seconds, postSeconds);
                    }
                    Scenarios.check(System.nanoTime() < deadline, "the batch did not finish in 30 minutes: " + batch);
                }
            }

            @Override
            public void close() throws Exception {
                api.close();
                site.close();
                db.close();
            }
        };
    }

    /** A batch drained: seconds from the POST to done, and the POST's own. */
    private record Drained(double seconds, double postSeconds) {
    }

    /** {@code n} URLs never fetched before in this run, spread over {@code hosts} in turn. */
    private static List<String> urls(TargetSite site, List<String> hosts, int[] next, int n) {
        List<String> urls = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            urls.add(site.url(hosts.get(i % hosts.size()), next[0]++));
        }
        return urls;
    }

    /**
     * The asyncio pattern over {@code urls}: its fetches per second, and its own CPU and context
     * switches per fetch (the script reports them), put in {@code run}.
     */
    private static void aiohttp(String python, List<String> urls, Map<String, Double> run)
            throws IOException, InterruptedException {
        Path file = Files.createTempFile("fetchq-bench-urls", ".txt");
        try {
            Files.write(file, urls, StandardCharsets.UTF_8);
            Process p = new ProcessBuilder(python, Launched.root().resolve("scripts/aiohttp-fetch.py").toString(),
                    file.toString(), Integer.toString(AIOHTTP_CONCURRENCY)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            Scenarios.check(p.waitFor() == 0, "aiohttp-fetch.py failed: " + out);
            String[] parts = out.split("\\s+");
            Scenarios.check(parts.length == 5 && parts[1].equals("0"), "aiohttp fetched every URL: " + out);
            int fetched = Integer.parseInt(parts[0]);
            run.put(AIOHTTP, fetched / Double.parseDouble(parts[2]));
            run.put("aiohttp: python CPU µs/fetch", Double.parseDouble(parts[3]) * 1e6 / fetched);
            run.put("aiohttp: python switches/fetch", Long.parseLong(parts[4]) / (double) fetched);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** A python3 that has {@code module} (the first on the path, else the system's), or null. */
    static String python(String module) throws InterruptedException {
        for (String candidate : List.of("python3", "/usr/bin/python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import " + module).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() == 0) {
                    return candidate;
                }
            } catch (IOException notHere) {
                // try the next
            }
        }
        return null;
    }

    /** A field's value in a flat JSON answer, as text. */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\\s*\"?([^,\"}]*)").matcher(json);
        Scenarios.check(m.find(), "no " + name + " in " + json);
        return m.group(1);
    }
}
