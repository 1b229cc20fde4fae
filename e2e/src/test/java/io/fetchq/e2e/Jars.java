package io.fetchq.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;

/**
 * The built API and worker jars started as real processes, as a user runs them, each logging to
 * {@code e2e/target/e2e-logs/<name>.log}; {@link #close} kills whatever is still running.
 */
final class Jars implements AutoCloseable {

    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path API = ROOT.resolve("api/target/fetchq-api.jar");
    static final Path WORKER = ROOT.resolve("worker/target/fetchq-worker.jar");

    private final List<Process> processes = new ArrayList<>();

    /** Starts {@code jar} with the given arguments. */
    Process start(String name, Path jar, List<String> args) throws IOException {
        assertThat(jar).as("built jar (run `./mvnw verify`, which packages first)").exists();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
        command.addAll(args);
        Path log = Files.createDirectories(ROOT.resolve("e2e/target/e2e-logs")).resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(process);
        return process;
    }

    /**
     * Starts the API jar on a free port with no worker of its own, anonymous callers and loopback
     * targets allowed, and waits until it answers; returns its base URL.
     */
    String startApi(String name, String db, String... extra) throws IOException {
        int port = Net.freePort();
        List<String> args = new ArrayList<>(List.of("--spring.datasource.url=" + db, "--server.port=" + port,
                "--fetchq.worker.enabled=false", "--fetchq.security.allow-anonymous=true",
                "--fetchq.fetch.allow-private-networks=true"));
        args.addAll(List.of(extra));
        start(name, API, args);
        String api = "http://127.0.0.1:" + port;
        Awaitility.await(name + " up").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> Net.httpStatus(api + "/actuator/health") == 200);
        return api;
    }

    /** The processes started, in order. */
    List<Process> processes() {
        return processes;
    }

    /** Sends a signal ({@code STOP}, {@code CONT}, ...) to a process. */
    static void signal(Process process, String signal) throws IOException, InterruptedException {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor()).isZero();
    }

    @Override
    public void close() {
        processes.forEach(Process::destroyForcibly);
    }
}
