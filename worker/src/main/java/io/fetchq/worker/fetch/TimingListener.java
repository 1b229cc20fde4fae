package io.fetchq.worker.fetch;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.util.List;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.EventListener;
import okhttp3.Handshake;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import java.net.InetAddress;

/**
 * Collects the phase timings of one call. A fetch with redirects makes several calls and sums
 * them with {@link #addTo}.
 */
final class TimingListener extends EventListener {

    private long dnsStart, connectStart, tlsStart, callStart;
    long dnsNanos = -1, connectNanos = -1, tlsNanos = -1;
    String remoteIp;
    /** Of the current call: whether it dialled a new connection, and whether response headers began. */
    private boolean dialled, headersStarted;
    /** The current call's timeouts, told of its progress. */
    private volatile CallDeadlines.Watch watch;

    void watchedBy(CallDeadlines.Watch watch) {
        this.watch = watch;
    }

    private void progress() {
        CallDeadlines.Watch w = watch;
        if (w != null) {
            w.progress();
        }
    }

    private void dialling(boolean dialling) {
        CallDeadlines.Watch w = watch;
        if (w != null) {
            w.dialling(dialling);
        }
    }

    @Override
    public void callStart(Call call) {
        callStart = System.nanoTime();
        dialled = false;
        headersStarted = false;
    }

    /**
     * Whether the current call failed on a pooled connection before any response: the server had
     * closed it while idle, so the request never reached it.
     */
    boolean failedOnStaleConnection() {
        return !dialled && !headersStarted;
    }

    @Override
    public void dnsStart(Call call, String domainName) {
        dnsStart = System.nanoTime();
        dialling(true);
    }

    @Override
    public void dnsEnd(Call call, String domainName, List<InetAddress> inetAddressList) {
        dnsNanos = Math.max(0, dnsNanos) + System.nanoTime() - dnsStart;
        dialling(false);
    }

    @Override
    public void connectStart(Call call, InetSocketAddress inetSocketAddress, Proxy proxy) {
        connectStart = System.nanoTime();
        dialled = true;
        dialling(true);
    }

    @Override
    public void secureConnectStart(Call call) {
        tlsStart = System.nanoTime();
        // The TCP connection is open: the handshake's silence counts, as a read's does.
        dialling(false);
    }

    @Override
    public void secureConnectEnd(Call call, Handshake handshake) {
        tlsNanos = Math.max(0, tlsNanos) + System.nanoTime() - tlsStart;
        progress();
    }

    @Override
    public void connectEnd(Call call, InetSocketAddress inetSocketAddress, Proxy proxy, Protocol protocol) {
        connectNanos = Math.max(0, connectNanos) + System.nanoTime() - connectStart;
        dialling(false);
    }

    @Override
    public void connectFailed(Call call, InetSocketAddress inetSocketAddress, Proxy proxy, Protocol protocol,
            IOException ioe) {
        connectNanos = Math.max(0, connectNanos) + System.nanoTime() - connectStart;
        dialling(false);
    }

    @Override
    public void connectionAcquired(Call call, Connection connection) {
        InetSocketAddress address = connection.route().socketAddress();
        if (address.getAddress() != null) {
            remoteIp = address.getAddress().getHostAddress();
        }
    }

    @Override
    public void requestHeadersEnd(Call call, Request request) {
        progress();
    }

    @Override
    public void requestBodyEnd(Call call, long byteCount) {
        progress();
    }

    @Override
    public void responseHeadersStart(Call call) {
        headersStarted = true;
        progress();
    }

    @Override
    public void responseHeadersEnd(Call call, Response response) {
        progress();
    }
}
