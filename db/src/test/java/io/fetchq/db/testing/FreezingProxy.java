package io.fetchq.db.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback to a server (the test database), whose connections can be frozen: a
 * frozen connection stays open and takes what the client sends, but nothing more reaches either
 * side — a half-open connection after a failover or a network cut, as the client sees it.
 * Connections made after {@link #freeze} are forwarded as usual.
 */
public final class FreezingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Link> links = new CopyOnWriteArrayList<>();
    /** Connections accepted so far. */
    public final AtomicInteger accepted = new AtomicInteger();

    private static final class Link {
        final Socket client;
        final Socket upstream;
        volatile boolean frozen;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }
    }

    public FreezingProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        threads.submit(this::accept);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Freezes every connection open now; later ones are forwarded. */
    public void freeze() {
        links.forEach(l -> l.frozen = true);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(targetHost, targetPort);
                Link link = new Link(client, upstream);
                links.add(link);
                accepted.incrementAndGet();
                threads.submit(() -> pump(link, client, upstream));
                threads.submit(() -> pump(link, upstream, client));
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Copies from one side to the other; once frozen, reads on and drops what it reads. */
    private void pump(Link link, Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) != -1) {
                if (!link.frozen) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // One side closed.
        } finally {
            if (!link.frozen) {
                closeQuietly(to);
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Link l : links) {
            closeQuietly(l.client);
            closeQuietly(l.upstream);
        }
        threads.shutdownNow();
    }
}
