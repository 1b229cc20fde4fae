package io.fetchq.e2e;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A site of several hosts, each its own loopback address (127.0.0.1, 127.0.0.2, ...) on one port,
 * that counts what a site operator sees: requests in flight to each host (from arrival until the
 * answer starts, so never more than the client has open), the peak, and when each request arrived.
 * Every page answers after {@code pageMs}; a host may answer its first request with {@code 429} and
 * {@code Retry-After}.
 */
final class PoliteSite implements AutoCloseable {

    /** What one host saw. */
    static final class Host {
        final String address;
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();
        /** Arrival of each request (System.nanoTime) and the requests in flight at that moment, itself included. */
        final List<long[]> arrivals = new CopyOnWriteArrayList<>();
        volatile long tooManyAtNanos;
        private final int retryAfterSeconds;
        private final AtomicBoolean tooManySent = new AtomicBoolean();

        Host(String address, int retryAfterSeconds) {
            this.address = address;
            this.retryAfterSeconds = retryAfterSeconds;
        }

        /** Requests that arrived in [from, to) (System.nanoTime). */
        long arrivedBetween(long from, long to) {
            return arrivals.stream().filter(a -> a[0] >= from && a[0] < to).count();
        }

        /** The most requests that arrived within any {@code windowNanos}. */
        long busiestWindow(long windowNanos) {
            List<Long> times = new ArrayList<>(arrivals.stream().map(a -> a[0]).sorted().toList());
            long most = 0;
            for (int i = 0, j = 0; i < times.size(); i++) {
                while (times.get(i) - times.get(j) >= windowNanos) {
                    j++;
                }
                most = Math.max(most, i - j + 1);
            }
            return most;
        }

        /** The most requests in flight at any arrival after {@code from}. */
        int peakAfter(long from) {
            return arrivals.stream().filter(a -> a[0] >= from).mapToInt(a -> (int) a[1]).max().orElse(0);
        }
    }

    private final int port;
    private final int pageMs;
    private final Map<String, Host> hosts = new ConcurrentHashMap<>();
    private final List<HttpServer> servers = new ArrayList<>();

    /**
     * @param retryAfter by host address, the Retry-After (seconds) of its first answer, a 429
     */
    PoliteSite(int hostCount, int pageMs, Map<String, Integer> retryAfter) throws IOException {
        this.pageMs = pageMs;
        this.port = Net.freePort();
        for (int i = 1; i <= hostCount; i++) {
            String address = "127.0.0." + i;
            Host host = new Host(address, retryAfter.getOrDefault(address, 0));
            hosts.put(address, host);
            HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 1024);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/", exchange -> answer(host, exchange));
            server.start();
            servers.add(server);
        }
    }

    Host host(int i) {
        return hosts.get("127.0.0." + i);
    }

    String url(int host, String path) {
        return "http://127.0.0." + host + ":" + port + path;
    }

    private void answer(Host host, HttpExchange exchange) throws IOException {
        int now = host.inFlight.incrementAndGet();
        host.peak.accumulateAndGet(now, Math::max);
        host.arrivals.add(new long[] {System.nanoTime(), now});
        boolean inFlight = true;
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            boolean tooMany = host.retryAfterSeconds > 0 && host.tooManySent.compareAndSet(false, true);
            if (!tooMany) {
                Thread.sleep(pageMs);
            }
            // Out of flight before the answer leaves: the client may start its next request the
            // moment it has read this one, and must not be counted twice.
            host.inFlight.decrementAndGet();
            inFlight = false;
            if (tooMany) {
                host.tooManyAtNanos = System.nanoTime();
                exchange.getResponseHeaders().add("Retry-After", Integer.toString(host.retryAfterSeconds));
                exchange.sendResponseHeaders(429, -1);
                return;
            }
            byte[] body = ("<html><title>" + exchange.getRequestURI().getPath() + "</title></html>")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (inFlight) {
                host.inFlight.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        servers.forEach(s -> s.stop(0));
    }
}
