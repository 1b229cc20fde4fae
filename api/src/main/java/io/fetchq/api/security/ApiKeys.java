package io.fetchq.api.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fetchq.db.ApiKeyQueries;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;

/**
 * Tells who a bearer key belongs to: the configured admin key, or a key of {@code fetchq.api_key}
 * found by the SHA-256 of the key. Lookups are remembered for {@code fetchq.security.key-cache-ttl},
 * by hash (the plaintext is never kept), unknown keys included. A key not shaped like one fetchq
 * issues is unknown without a lookup.
 */
@Component
public class ApiKeys {

    /** Longer than any key fetchq issues or accepts in configuration: refused without a lookup. */
    static final int MAX_KEY_LENGTH = 512;

    /** The shape of every key fetchq issues: anything else is unknown without a database lookup. */
    private static final Pattern ISSUED = Pattern.compile("fq_[A-Za-z0-9_-]{43}");

    private final ApiKeyQueries queries;
    private final byte[] adminKeyHash;
    private final Cache<String, Optional<Caller>> cache;

    ApiKeys(ApiKeyQueries queries, SecurityProperties properties) {
        this.queries = queries;
        this.adminKeyHash = properties.adminKey() == null ? null : sha256(properties.adminKey());
        this.cache = Caffeine.newBuilder()
                .expireAfterWrite(properties.keyCacheTtl())
                .maximumSize(10_000)
                .build();
    }

    /** The caller a key belongs to; empty for an unknown or revoked key. */
    public Optional<Caller> authenticate(String key) {
        if (key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
            return Optional.empty();
        }
        byte[] hash = sha256(key);
        if (adminKeyHash != null && MessageDigest.isEqual(hash, adminKeyHash)) {
            return Optional.of(Caller.ADMIN_KEY);
        }
        if (!ISSUED.matcher(key).matches()) {
            return Optional.empty();
        }
        return cache.get(HexFormat.of().formatHex(hash), h -> queries.authenticate(hash)
                .map(k -> new Caller("key " + k.id(), k.tenant(), scopes(k.scopes()))));
    }

    /** Whether the configuration holds an admin key. */
    public boolean hasConfiguredKey() {
        return adminKeyHash != null;
    }

    /** Forgets every remembered lookup, so that a revocation on this instance takes effect at once. */
    public void forgetLookups() {
        cache.invalidateAll();
    }

    private static Set<Scope> scopes(List<String> labels) {
        Set<Scope> scopes = EnumSet.noneOf(Scope.class);
        labels.forEach(l -> Scope.of(l).ifPresent(scopes::add));
        return scopes;
    }

    static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
