package io.fetchq.worker.fetch;

import io.fetchq.url.UrlPolicy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import okhttp3.Dns;

/**
 * The resolver every fetch uses. OkHttp connects to exactly the addresses returned here, so
 * refusing blocked ones closes the DNS-rebinding window: what is checked is what is dialled.
 * Blocked addresses are dropped; when none is left the lookup fails as {@code blocked}.
 */
public final class GuardedDns implements Dns {

    private final UrlPolicy policy;
    private final Dns delegate;

    public GuardedDns(UrlPolicy policy, Dns delegate) {
        this.policy = policy;
        this.delegate = delegate;
    }

    @Override
    public List<InetAddress> lookup(String hostname) throws UnknownHostException {
        List<InetAddress> resolved = delegate.lookup(hostname);
        List<InetAddress> allowed = new ArrayList<>(resolved.size());
        String firstReason = null;
        for (InetAddress address : resolved) {
            Optional<String> reason = policy.blockedAddress(address);
            if (reason.isEmpty()) {
                allowed.add(address);
            } else if (firstReason == null) {
                firstReason = reason.get() + " " + address.getHostAddress();
            }
        }
        if (allowed.isEmpty()) {
            throw new BlockedAddressException(hostname + " resolves to a blocked " + firstReason);
        }
        return allowed;
    }
}
