package io.fetchq.e2e;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sites the workers fetch, on loopback: {@code /ok/N} answers at once, {@code /slow/N} after
 * 300-1,500 ms, {@code /flaky/N} answers 503 the first time and 200 after. Counts requests per path.
 */
final class TargetServer implements AutoCloseable {

    private final HttpServer server;
    final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

    TargetServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            int n = hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            int status = 200;
            try {
                if (path.startsWith("/slow/")) {
                    Thread.sleep(300 + Math.abs(path.hashCode() % 1200));
                } else if (path.startsWith("/flaky/") && n == 1) {
                    status = 503;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = ("<html><head><title>" + path + "</title></head></html>").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    int maxHits() {
        return hits.values().stream().mapToInt(AtomicInteger::get).max().orElse(0);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
