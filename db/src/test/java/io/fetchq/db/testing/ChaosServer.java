package io.fetchq.db.testing;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A fault-injecting HTTP/1.1 server on loopback, one behaviour per path (what follows the pattern,
 * such as {@code /hang/17}, only tells jobs apart). It counts requests per
 * path and the peak of concurrent requests per Host header and overall.
 *
 * <pre>
 * /page/{name}                 200 HTML with a title and links
 * /status/{code}               that status
 * /flaky/{key}/{n}             503 for the first n requests of key, then 200
 * /retry-after/{key}/{secs}    429 with Retry-After: secs the first time, then 200
 * /retry-date/{key}/{secs}     429 with Retry-After as an HTTP date secs ahead, then 200
 * /hang                        reads the request and never answers (until the client closes)
 * /reset                       reads the request and resets the connection
 * /big/{bytes}                 200 with that many bytes
 * /gzip                        200 gzip-encoded HTML
 * /deflate                     200 deflate-encoded HTML
 * /redirect/{n}                302 to /redirect/{n-1}; /redirect/0 is a page
 * /loop                        302 to itself
 * /to?u={location}             302 to location
 * /slow/{ms}                   200 after ms
 * /echo                        200 with the request's method, headers and body as text
 * /gate/{key}                  holds the n-th request of key until {@link #open}(key, n), then 200 "answer n"
 * /versioned/{name}            the page {@link #version}(name, html) set last, with an ETag and a Last-Modified
 *                              of its version; 304 to a request whose If-None-Match names the ETag or, without
 *                              If-None-Match, whose If-Modified-Since is not before the Last-Modified
 * /dated/{name}                as /versioned, with a Last-Modified only
 * /robots.txt                  what {@link #robots} set for the request's host, else 404
 * </pre>
 */
public final class ChaosServer implements AutoCloseable {

    private final ServerSocketChannel server;
    private final int port;
    /**
     * Requests on {@code /hang} per Host header: each ends when its client closes, which its own
     * thread may notice late; a new request of the host first ends those whose client is gone, so
     * that a client that closed one connection and opened the next is not seen with both at once.
     */
    private final Map<String, Set<Hanging>> hanging = new ConcurrentHashMap<>();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    public final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    /** Requests per host (the Host header without its port) and path. */
    private final Map<String, AtomicInteger> hitsByHost = new ConcurrentHashMap<>();
    private final Map<String, Robots> robots = new ConcurrentHashMap<>();

    private record Robots(int status, String body, String[] headers) {
    }

    /** What {@code /robots.txt} answers on {@code host}: a status, a body and any headers. */
    public void robots(String host, int status, String body, String... headers) {
        robots.put(host, new Robots(status, body, headers));
    }

    /** Requests for {@code path} that named {@code host}. */
    public int hits(String host, String path) {
        AtomicInteger n = hitsByHost.get(host + " " + path);
        return n == null ? 0 : n.get();
    }
    private final Map<String, AtomicInteger> activeByHost = new ConcurrentHashMap<>();
    public final Map<String, AtomicInteger> peakByHost = new ConcurrentHashMap<>();
    private final AtomicInteger active = new AtomicInteger();
    private final Map<String, AtomicInteger> activeByPath = new ConcurrentHashMap<>();
    /** The peak of concurrent requests per path. */
    public final Map<String, AtomicInteger> peakByPath = new ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.CountDownLatch> gates = new ConcurrentHashMap<>();
    public final AtomicInteger peak = new AtomicInteger();
    private final Map<String, Version> versions = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> fullResponses = new ConcurrentHashMap<>();
    private final Map<String, String> validatorsSent = new ConcurrentHashMap<>();

    /** A page of {@code /versioned} and {@code /dated}: its version number and HTML. */
    private record Version(int n, String html) {
    }

    /** When version 0 of every page was modified; version n an hour later each. */
    private static final java.time.Instant FIRST_MODIFIED = java.time.Instant.parse("2026-01-01T00:00:00Z");

    public ChaosServer() throws IOException {
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1000);
        port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        threads.submit(this::acceptLoop);
    }

    public int port() {
        return port;
    }

    /** A URL on this server under host name {@code host} (which tests resolve to loopback). */
    public String url(String host, String path) {
        return "http://" + host + ":" + port() + path;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    public int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    /** Lets the {@code n}-th request of {@code /gate/{key}} (counting from 1) be answered. */
    public void open(String key, int n) {
        gate(key, n).countDown();
    }

    private java.util.concurrent.CountDownLatch gate(String key, int n) {
        return gates.computeIfAbsent(key + "#" + n, k -> new java.util.concurrent.CountDownLatch(1));
    }

    /** Requests being answered now, on any path. */
    /** Makes {@code html} the next version of page {@code name} (of {@code /versioned} and {@code /dated}). */
    public void version(String name, String html) {
        versions.merge(name, new Version(1, html), (old, v) -> new Version(old.n() + 1, html));
    }

    /** The ETag of the page's current version. */
    public String etag(String name) {
        return "\"" + name + "-" + versions.get(name).n() + "\"";
    }

    /** Answers of this path that carried the page (200), not a 304. */
    public int fullResponses(String path) {
        AtomicInteger n = fullResponses.get(path);
        return n == null ? 0 : n.get();
    }

    /** The validator headers of the path's latest request, one per line ("" when it sent none). */
    public String validatorsSent(String path) {
        return validatorsSent.getOrDefault(path, "");
    }

    public int active() {
        return active.get();
    }

    /** Requests of {@code path} being answered now. */
    public int active(String path) {
        AtomicInteger n = activeByPath.get(path);
        return n == null ? 0 : n.get();
    }

    public int peakOf(String path) {
        AtomicInteger n = peakByPath.get(path);
        return n == null ? 0 : n.get();
    }

    public int peak(String host) {
        AtomicInteger n = peakByHost.get(host);
        return n == null ? 0 : n.get();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                Socket socket = server.accept().socket();
                threads.submit(() -> handle(socket));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void handle(Socket socket) {
        String host = "?";
        // A request counts as in flight until its answer starts: once a byte of it is out, the client
        // may finish and send its next request before this thread gets to count the last one done.
        Runnable answering = null;
        try (socket) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            String requestLine = in.readLine();
            if (requestLine == null) {
                return;
            }
            String line;
            StringBuilder head = new StringBuilder(requestLine).append('\n');
            int contentLength = 0;
            while ((line = in.readLine()) != null && !line.isEmpty()) {
                head.append(line).append('\n');
                String lower = line.toLowerCase(Locale.ROOT);
                if (lower.startsWith("host:")) {
                    host = line.substring(5).strip().replaceAll(":\\d+$", "");
                } else if (lower.startsWith("content-length:")) {
                    contentLength = Integer.parseInt(line.substring(15).strip());
                }
            }
            char[] body = new char[contentLength];
            for (int read = 0; read < contentLength; ) {
                int n = in.read(body, read, contentLength - read);
                if (n < 0) {
                    break;
                }
                read += n;
            }
            head.append('\n').append(body);
            String target = requestLine.split(" ")[1];
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            int nth = hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            hitsByHost.computeIfAbsent(host + " " + path, p -> new AtomicInteger()).incrementAndGet();
            int onPath = activeByPath.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            peakByPath.computeIfAbsent(path, p -> new AtomicInteger()).accumulateAndGet(onPath, Math::max);
            hanging.getOrDefault(host, Set.of()).forEach(Hanging::ended);
            int now = activeByHost.computeIfAbsent(host, h -> new AtomicInteger()).incrementAndGet();
            peakByHost.computeIfAbsent(host, h -> new AtomicInteger()).accumulateAndGet(now, Math::max);
            peak.accumulateAndGet(active.incrementAndGet(), Math::max);
            String h = host;
            java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
            answering = () -> {
                if (over.compareAndSet(false, true)) {
                    activeByPath.get(path).decrementAndGet();
                    activeByHost.get(h).decrementAndGet();
                    active.decrementAndGet();
                }
            };
            respond(socket, host, target, path, head.toString(), nth, answering);
        } catch (IOException | InterruptedException e) {
            // the client went away; nothing to do
        } finally {
            if (answering != null) {
                answering.run();
            }
        }
    }

    private void respond(Socket socket, String host, String target, String path, String request, int nth,
                         Runnable answering)
            throws IOException, InterruptedException {
        String[] parts = path.split("/");
        OutputStream out = new java.io.FilterOutputStream(socket.getOutputStream()) {
            @Override
            public void write(int b) throws IOException {
                answering.run();
                super.out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                answering.run();
                super.out.write(b, off, len);
            }
        };
        switch (parts.length > 1 ? parts[1] : "") {
            case "page" -> send(out, 200, "text/html; charset=utf-8", page(parts.length > 2 ? parts[2] : "home"));
            case "robots.txt" -> {
                Robots answer = robots.get(host);
                if (answer == null) {
                    send(out, 404, "text/plain", "no robots.txt");
                } else {
                    send(out, answer.status(), "text/plain", answer.body(), answer.headers());
                }
            }
            case "status" -> send(out, Integer.parseInt(parts[2]), "text/plain", "status " + parts[2]);
            case "flaky" -> {
                int n = hits(path);
                if (n <= Integer.parseInt(parts[3])) {
                    send(out, 503, "text/plain", "try later");
                } else {
                    send(out, 200, "text/html", page("recovered"));
                }
            }
            case "retry-after", "retry-date" -> {
                if (hits(path) == 1) {
                    long secs = Long.parseLong(parts[3]);
                    String value = parts[1].equals("retry-after") ? Long.toString(secs)
                            : DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().plusSeconds(secs));
                    send(out, 429, "text/plain", "slow down", "Retry-After: " + value);
                } else {
                    send(out, 200, "text/html", page("after-wait"));
                }
            }
            case "hang" -> {
                // Until the client gives up (or a minute passes): a request it abandoned is no
                // longer counted as in flight.
                Hanging hang = new Hanging(socket.getChannel(), answering);
                Set<Hanging> ofHost = hanging.computeIfAbsent(host, h -> ConcurrentHashMap.newKeySet());
                ofHost.add(hang);
                try {
                    hang.awaitEnd(TimeUnit.MINUTES.toMillis(1));
                } finally {
                    ofHost.remove(hang);
                }
            }
            case "reset" -> {
                // Counted done before the reset: the client may send its next request at once.
                answering.run();
                socket.setSoLinger(true, 0);
                socket.close();
            }
            case "big" -> {
                int bytes = Integer.parseInt(parts[2]);
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + bytes
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                byte[] chunk = new byte[64 * 1024];
                for (int sent = 0; sent < bytes; sent += chunk.length) {
                    out.write(chunk, 0, Math.min(chunk.length, bytes - sent));
                }
                out.flush();
            }
            case "gzip" -> sendEncoded(out, "gzip", page("zipped"));
            case "deflate" -> sendEncoded(out, "deflate", page("deflated"));
            case "redirect" -> {
                int n = Integer.parseInt(parts[2]);
                if (n == 0) {
                    send(out, 200, "text/html", page("landed"));
                } else {
                    send(out, 302, "text/plain", "", "Location: /redirect/" + (n - 1));
                }
            }
            case "loop" -> send(out, 302, "text/plain", "", "Location: /loop");
            case "to" -> send(out, 302, "text/plain", "", "Location: "
                    + URLDecoder.decode(target.substring(target.indexOf("u=") + 2), StandardCharsets.UTF_8));
            case "slow" -> {
                Thread.sleep(Long.parseLong(parts[2]));
                send(out, 200, "text/plain", "slow");
            }
            case "echo" -> send(out, 200, "text/plain", request);
            case "drip" -> {
                // /drip/{bytes}/{ms}: the headers at once, then one body byte every {ms} ms.
                int bytes = Integer.parseInt(parts[2]);
                long every = Long.parseLong(parts[3]);
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + bytes
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                for (int i = 0; i < bytes; i++) {
                    Thread.sleep(every);
                    out.write('x');
                    out.flush();
                }
            }
            case "gate" -> {
                if (gate(parts[2], nth).await(60, TimeUnit.SECONDS)) {
                    send(out, 200, "text/plain", "answer " + nth);
                }
            }
            case "versioned", "dated" -> versioned(out, path, parts[1].equals("versioned"), parts[2], request);
            default -> send(out, 404, "text/plain", "no such path");
        }
    }

    /** A page with validators that honours conditional requests (RFC 9110, 13.1.1 and 13.1.3). */
    private void versioned(OutputStream out, String path, boolean withEtag, String name, String request)
            throws IOException {
        Version version = versions.get(name);
        if (version == null) {
            send(out, 404, "text/plain", "no such page");
            return;
        }
        String etag = etag(name);
        java.time.Instant modified = FIRST_MODIFIED.plus(java.time.Duration.ofHours(version.n()));
        String ifNoneMatch = header(request, "If-None-Match");
        String ifModifiedSince = header(request, "If-Modified-Since");
        validatorsSent.put(path, (ifNoneMatch == null ? "" : "If-None-Match: " + ifNoneMatch + "\n")
                + (ifModifiedSince == null ? "" : "If-Modified-Since: " + ifModifiedSince + "\n"));
        boolean notModified;
        if (ifNoneMatch != null) {
            notModified = withEtag && ifNoneMatch.equals(etag);
        } else if (ifModifiedSince != null) {
            java.time.Instant since = ZonedDateTime.parse(ifModifiedSince, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            notModified = !since.isBefore(modified);
        } else {
            notModified = false;
        }
        String lastModified = "Last-Modified: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(
                modified.atZone(java.time.ZoneOffset.UTC));
        String[] headers = withEtag ? new String[] {lastModified, "ETag: " + etag} : new String[] {lastModified};
        if (notModified) {
            send(out, 304, "text/html; charset=utf-8", "", headers);
        } else {
            fullResponses.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            send(out, 200, "text/html; charset=utf-8", version.html(), headers);
        }
    }

    /** The value of the request's header {@code name}, or null. */
    private static String header(String request, String name) {
        for (String line : request.split("\n")) {
            if (line.isEmpty()) {
                return null;
            }
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }

    /** A request on {@code /hang}: ended once its client closed (read without blocking). */
    private static final class Hanging {

        private final SocketChannel channel;
        private final Runnable answering;
        private final ByteBuffer discard = ByteBuffer.allocate(512);
        private boolean ended;

        Hanging(SocketChannel channel, Runnable answering) {
            this.channel = channel;
            this.answering = answering;
        }

        /** Waits until the client closes (the channel turns readable at its end) or {@code millis} pass. */
        void awaitEnd(long millis) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            try (java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
                synchronized (this) {
                    channel.configureBlocking(false);
                    channel.register(selector, java.nio.channels.SelectionKey.OP_READ);
                }
                // Stops early when interrupted (the server closes): select would return at once from then on.
                for (long left = millis; !ended() && left > 0 && !Thread.currentThread().isInterrupted();
                     left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())) {
                    selector.select(left);
                    selector.selectedKeys().clear();
                }
            }
        }

        synchronized boolean ended() {
            if (!ended) {
                try {
                    channel.configureBlocking(false);
                    int n;
                    do {
                        discard.clear();
                        n = channel.read(discard);
                    } while (n > 0);
                    ended = n < 0;
                } catch (IOException reset) {
                    ended = true;
                }
                if (ended) {
                    answering.run();
                }
            }
            return ended;
        }
    }

    private static void sendEncoded(OutputStream out, String encoding, String html) throws IOException {
        ByteArrayOutputStream encoded = new ByteArrayOutputStream();
        try (OutputStream z = encoding.equals("gzip") ? new GZIPOutputStream(encoded) : new DeflaterOutputStream(encoded)) {
            z.write(html.getBytes(StandardCharsets.UTF_8));
        }
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: " + encoding + "\r\nContent-Length: "
                + encoded.size() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(encoded.toByteArray());
        out.flush();
    }

    public static String page(String name) {
        return "<!doctype html><html><head><title>Page " + name + "</title></head><body>"
                + "<a href=\"/page/a\">a</a> <a href=\"https://example.org/x#frag\">x</a> <a href=\"mailto:z@example.org\">m</a>"
                + "</body></html>";
    }

    /** Sends one whole answer, then the connection closes (the test servers' way of answering). */
    static void send(OutputStream out, int status, String type, String body, String... headers) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n")
                .append("Content-Type: ").append(type).append("\r\n")
                .append("Content-Length: ").append(bytes.length).append("\r\n")
                .append("Connection: close\r\n");
        for (String h : headers) {
            head.append(h).append("\r\n");
        }
        out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
