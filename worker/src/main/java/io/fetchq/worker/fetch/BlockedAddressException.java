package io.fetchq.worker.fetch;

import java.net.UnknownHostException;

/**
 * A host name resolved only to addresses fetchq must not connect to. An
 * {@link UnknownHostException} so that OkHttp gives up on the route at once.
 */
public class BlockedAddressException extends UnknownHostException {

    public BlockedAddressException(String message) {
        super(message);
    }
}
