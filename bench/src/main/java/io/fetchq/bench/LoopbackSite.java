package io.fetchq.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The benchmarks' web site on 127.0.0.1: a minimal HTTP/1.1 server with keep-alive, a virtual
 * thread per connection, answering every GET with the same 2 KiB HTML page. Paths under
 * {@code /slow/} are held until {@link #releaseSlow()}, for measuring a worker with many fetches
 * in flight. Small on purpose, so that on a shared machine the site costs the fetcher little CPU.
 */
final class LoopbackSite implements AutoCloseable {

    private static final byte[] PAGE;

    static {
        String html = "<html><head><title>bench</title></head><body>%s</body></html>";
        byte[] body = html.formatted("x".repeat(2048 - html.length() + 2)).getBytes(StandardCharsets.US_ASCII);
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " + body.length
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        PAGE = new byte[head.length + body.length];
        System.arraycopy(head, 0, PAGE, 0, head.length);
        System.arraycopy(body, 0, PAGE, head.length, body.length);
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger slowHeld = new AtomicInteger();
    private final CountDownLatch slowGate = new CountDownLatch(1);

    LoopbackSite() throws IOException {
        this(InetAddress.getLoopbackAddress(), 0);
    }

    LoopbackSite(InetAddress address, int port) throws IOException {
        server = new ServerSocket(port, 8192, address);
        threads.submit(this::accept);
    }

    /**
     * The site as a process of its own, for end-to-end benchmarks where it must not share the JVM of
     * what it serves: {@code LoopbackSite <port> <address>...}; runs until killed.
     */
    public static void main(String... args) throws Exception {
        int port = Integer.parseInt(args[0]);
        for (int i = 1; i < args.length; i++) {
            new LoopbackSite(InetAddress.getByName(args[i]), port);
        }
        System.out.println("serving on port " + port);
        new CountDownLatch(1).await();
    }

    int port() {
        return server.getLocalPort();
    }

    String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    int requests() {
        return requests.get();
    }

    /** Requests to {@code /slow/} being held right now. */
    int slowHeld() {
        return slowHeld.get();
    }

    /** Answers every held {@code /slow/} request, and the ones that come later, at once. */
    void releaseSlow() {
        slowGate.countDown();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                threads.submit(() -> serve(socket));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket; InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
                OutputStream out = socket.getOutputStream()) {
            socket.setTcpNoDelay(true);
            while (true) {
                String requestLine = readHead(in);
                if (requestLine == null) {
                    return;
                }
                requests.incrementAndGet();
                if (requestLine.contains(" /slow/")) {
                    slowHeld.incrementAndGet();
                    try {
                        slowGate.await();
                    } finally {
                        slowHeld.decrementAndGet();
                    }
                }
                out.write(PAGE);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the client went away, or the site is closing
        }
    }

    /** Reads one request head (GET: no body) and returns its first line, or null at end of stream. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder(64);
        String first = null;
        int lineLength = 0;
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                if (lineLength == 0) {
                    return first;
                }
                if (first == null) {
                    first = line.toString();
                }
                lineLength = 0;
            } else if (b != '\r') {
                if (first == null) {
                    line.append((char) b);
                }
                lineLength++;
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        releaseSlow();
        server.close();
        threads.shutdownNow();
    }
}
