package io.fetchq.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The web site of the end-to-end benchmark, in a process of its own so that it shares no JVM with
 * what it serves: nginx when the machine has it (a 2 KiB {@code index.html} for every path), else
 * {@link LoopbackSite} started with {@code java}. It listens on 127.0.0.1 to 127.0.0.4 (four
 * hosts, as fetchq counts hosts by name) on one free port.
 */
final class TargetSite implements AutoCloseable {

    static final List<String> HOSTS = List.of("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4");

    private final Process process;
    private final int port;
    private final String kind;

    private TargetSite(Process process, int port, String kind) {
        this.process = process;
        this.port = port;
        this.kind = kind;
    }

    long pid() {
        return process.pid();
    }

    static TargetSite start() throws IOException, InterruptedException {
        int port = Launched.freePort();
        Path dir = Files.createTempDirectory("fetchq-bench-site");
        Path log = Files.createDirectories(Launched.root().resolve("bench/target/bench-logs")).resolve("site.log");
        Path nginx = nginx();
        Process process;
        String kind;
        if (nginx != null) {
            String html = "<html><head><title>bench</title></head><body>%s</body></html>";
            Files.writeString(dir.resolve("index.html"), html.formatted("x".repeat(2048 - html.length() + 2)));
            StringBuilder listen = new StringBuilder();
            for (String host : HOSTS) {
                listen.append("    listen ").append(host).append(':').append(port).append(";\n");
            }
            Files.writeString(dir.resolve("nginx.conf"), """
                    user root;
                    worker_processes 1;
                    pid %1$s/nginx.pid;
                    error_log %1$s/error.log warn;
                    events { worker_connections 4096; }
                    http {
                        access_log off;
                        keepalive_requests 100000;
                        client_body_temp_path %1$s/tmp;
                        server {
                    %2$s        root %1$s;
                            location / { default_type text/html; try_files /index.html =404; }
                        }
                    }
                    """.formatted(dir, listen));
            process = new ProcessBuilder(nginx.toString(), "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(),
                    "-g", "daemon off;").redirectErrorStream(true).redirectOutput(log.toFile()).start();
            kind = "nginx (worker_processes 1)";
        } else {
            List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-cp", System.getProperty("java.class.path"), LoopbackSite.class.getName(), Integer.toString(port)));
            command.addAll(HOSTS);
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            kind = "LoopbackSite in a JVM of its own (no nginx here)";
        }
        TargetSite site = new TargetSite(process, port, kind);
        site.awaitListening(log);
        return site;
    }

    private static Path nginx() {
        for (String candidate : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        return null;
    }

    private void awaitListening(Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the site exited at start: " + Files.readString(log, StandardCharsets.UTF_8));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOSTS.getLast(), port), 1000);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("the site did not listen within 60 s; see " + log);
    }

    String url(String host, int i) {
        return "http://" + host + ":" + port + "/index.html?i=" + i;
    }

    String kind() {
        return kind;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
