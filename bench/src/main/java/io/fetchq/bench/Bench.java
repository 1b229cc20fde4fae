package io.fetchq.bench;

import io.fetchq.db.testing.TestDatabase;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark harness. Runs each scenario {@code --runs} times (default 3) on a fresh database
 * per run, prints median and range, and writes them to {@code --out} (default
 * {@code docs/benchmarks.md}) with the machine, versions and the command.
 *
 * <pre>
 * scripts/bench.sh [--n=100000] [--runs=3] [--scenarios=bound,drain-noop,enqueue-db] [--out=docs/benchmarks.md]
 * </pre>
 * The database server comes from {@code FETCHQ_BENCH_DB_URL} (a server where databases may be
 * created), else as for the tests: {@code FETCHQ_TEST_DB_URL}, Testcontainers, embedded PostgreSQL.
 * The drain-noop worker runs with the default settings unless {@code -Dbench.inflight},
 * {@code -Dbench.claim} or {@code -Dbench.completers} say otherwise (for exploring batch sizes).
 */
public final class Bench {

    interface Scenario {
        double run(int n) throws Exception;
    }

    /** Jobs in the unrecorded warm-up run of each scenario. */
    static final int WARM_UP_JOBS = 20_000;

    private static final Map<String, Scenario> SCENARIOS = new LinkedHashMap<>();

    static {
        SCENARIOS.put("bound", Scenarios::bound);
        SCENARIOS.put("drain-noop", Scenarios::drainNoop);
        SCENARIOS.put("enqueue-db", Scenarios::enqueueDb);
    }

    record Result(String scenario, int n, List<Double> runs) {
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

    public static void main(String... args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>(Map.of("n", "100000", "runs", "3",
                "scenarios", String.join(",", SCENARIOS.keySet()), "out", "docs/benchmarks.md"));
        for (String arg : args) {
            String[] kv = arg.replaceFirst("^--", "").split("=", 2);
            if (kv.length != 2 || !options.containsKey(kv[0])) {
                throw new IllegalArgumentException("unknown option " + arg + "; options: " + options.keySet());
            }
            options.put(kv[0], kv[1]);
        }
        String benchDb = System.getenv("FETCHQ_BENCH_DB_URL");
        if (benchDb != null && !benchDb.isBlank()) {
            System.setProperty("fetchq.test.db-url", benchDb);
        }
        int n = Integer.parseInt(options.get("n"));
        int runs = Integer.parseInt(options.get("runs"));
        List<Result> results = new ArrayList<>();
        for (String name : options.get("scenarios").split(",")) {
            Scenario scenario = SCENARIOS.get(name.strip());
            if (scenario == null) {
                throw new IllegalArgumentException("unknown scenario " + name + "; scenarios: " + SCENARIOS.keySet());
            }
            // One unrecorded run first, so that the measured ones do not pay for class loading and JIT.
            scenario.run(Math.min(n, WARM_UP_JOBS));
            List<Double> measured = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                double rate = scenario.run(n);
                measured.add(rate);
                System.out.printf(Locale.ROOT, "%-12s run %d: %,.0f jobs/s%n", name, r + 1, rate);
            }
            results.add(new Result(name.strip(), n, measured));
        }
        String report = report(results, options, args);
        System.out.println(report);
        Path out = Path.of(options.get("out"));
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, report);
    }

    static String report(List<Result> results, Map<String, String> options, String[] args) throws IOException {
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
        md.append("Each scenario ran ").append(options.get("runs")).append(" times on a fresh database, after an ")
                .append("unrecorded warm-up run; ")
                .append("jobs per second, median and range. The machine is shared and noisy: compare the ratios ")
                .append("within one run.\n\n");
        md.append("| scenario | jobs | median jobs/s | range | vs bound |\n|---|---|---|---|---|\n");
        Double bound = results.stream().filter(r -> r.scenario().equals("bound")).map(Result::median).findFirst()
                .orElse(null);
        for (Result r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %,d | %,.0f | %,.0f – %,.0f | %s |%n", r.scenario(), r.n(),
                    r.median(), r.min(), r.max(),
                    bound == null || r.scenario().equals("bound") || r.scenario().startsWith("enqueue")
                            ? "" : String.format(Locale.ROOT, "%.0f %%", 100 * r.median() / bound)));
        }
        md.append("""

                - **bound**: %d connections each claiming %d jobs (`FOR UPDATE SKIP LOCKED`) and completing
                  them in one statement that deletes the queue rows, writes the job results and inserts the
                  attempt rows: the same writes per job as fetchq, with nothing else.
                - **drain-noop**: the real worker (claims sized to free slots, per-host guards, retry policy,
                  CPU pool, batched fenced completion) with a fetcher that answers at once.
                - **enqueue-db**: one batch through the `db` layer's bulk insert (job and queue rows).
                """.formatted(Scenarios.BOUND_CONNECTIONS, Scenarios.BATCH));
        return md.toString();
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
