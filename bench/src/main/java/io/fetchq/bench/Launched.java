package io.fetchq.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The built API or worker jar running as a process of its own, as users run it ({@code java -jar},
 * default JVM settings), logging to {@code bench/target/bench-logs}. Stopped with SIGTERM on close.
 */
final class Launched implements AutoCloseable {

    private final String name;
    private final Process process;
    private final Path log;

    private Launched(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    long pid() {
        return process.pid();
    }

    /** The API on a free port, without an in-process worker. */
    static Launched api(String jdbcUrl, int port) throws IOException, InterruptedException {
        Launched api = start("api", jar("api/target/fetchq-api.jar"), List.of("--server.port=" + port,
                "--spring.datasource.url=" + jdbcUrl, "--fetchq.worker.enabled=false", "--logging.level.root=WARN",
                "--fetchq.fetch.allow-private-networks=true",
                // A trusted loopback harness: no keys, no submission rate limit.
                "--fetchq.security.allow-anonymous=true", "--fetchq.security.submit-rate-limit=0",
                "--fetchq.security.read-rate-limit=0",
                // One batch of as many URLs as a steady-state run needs (--urls), all-or-nothing as always.
                "--fetchq.intake.max-batch-jobs=1000000"));
        api.awaitHttp("http://127.0.0.1:" + port + "/actuator/health");
        return api;
    }

    static Launched worker(String id, String jdbcUrl, String... settings) throws IOException {
        return worker(id, jdbcUrl, List.of(), settings);
    }

    /** A worker with JVM options before {@code -jar}. */
    static Launched worker(String id, String jdbcUrl, List<String> jvm, String... settings) throws IOException {
        List<String> args = new ArrayList<>(List.of("--spring.datasource.url=" + jdbcUrl, "--fetchq.worker.id=" + id,
                "--fetchq.fetch.allow-private-networks=true", "--logging.level.root=WARN", "--server.port=0"));
        args.addAll(List.of(settings));
        // -Dbench.worker-jar: another form of the worker, e.g. the extracted one an AOT cache is made for.
        String other = System.getProperty("bench.worker-jar", "");
        return start(id, other.isBlank() ? jar("worker/target/fetchq-worker.jar") : Path.of(other), jvm, args);
    }

    private static Launched start(String name, Path jar, List<String> args) throws IOException {
        return start(name, jar, List.of(), args);
    }

    private static Launched start(String name, Path jar, List<String> jvm, List<String> args) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build with ./mvnw -DskipTests package first");
        }
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
        command.addAll(jvm);
        command.addAll(List.of("-jar", jar.toString()));
        command.addAll(args);
        Path log = Files.createDirectories(root().resolve("bench/target/bench-logs")).resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new Launched(name, process, log);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The repository root: where the harness was started, or the parent of the bench module. */
    static Path root() {
        Path here = Path.of("").toAbsolutePath();
        return Files.exists(here.resolve("mvnw")) ? here : here.getParent();
    }

    private static Path jar(String path) {
        return root().resolve(path);
    }

    private void awaitHttp(String url) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited at start; see " + log);
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(name + " did not answer " + url + " within 120 s; see " + log);
    }

    /**
     * Peak resident memory of the process so far ({@code VmHWM} in {@code /proc}), in MiB; -1 where
     * the system does not say.
     */
    double peakRssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or the process is gone
        }
        return -1;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
