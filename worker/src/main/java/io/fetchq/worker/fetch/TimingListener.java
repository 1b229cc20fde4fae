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
    }

    @Override
    public void dnsEnd(Call call, String domainName, List<InetAddress> inetAddressList) {
        dnsNanos = Math.max(0, dnsNanos) + System.nanoTime() - dnsStart;
    }

    @Override
    public void connectStart(Call call, InetSocketAddress inetSocketAddress, Proxy proxy) {
        connectStart = System.nanoTime();
        dialled = true;
    }

    @Override
    public void secureConnectStart(Call call) {
        tlsStart = System.nanoTime();
    }

    @Override
    public void secureConnectEnd(Call call, Handshake handshake) {
        tlsNanos = Math.max(0, tlsNanos) + System.nanoTime() - tlsStart;
    }

    @Override
    public void connectEnd(Call call, InetSocketAddress inetSocketAddress, Proxy proxy, Protocol protocol) {
        connectNanos = Math.max(0, connectNanos) + System.nanoTime() - connectStart;
    }

    @Override
    public void connectFailed(Call call, InetSocketAddress inetSocketAddress, Proxy proxy, Protocol protocol,
            IOException ioe) {
        connectNanos = Math.max(0, connectNanos) + System.nanoTime() - connectStart;
    }

    @Override
    public void connectionAcquired(Call call, Connection connection) {
        InetSocketAddress address = connection.route().socketAddress();
        if (address.getAddress() != null) {
            remoteIp = address.getAddress().getHostAddress();
        }
    }

    @Override
    public void responseHeadersStart(Call call) {
        headersStarted = true;
    }
}
