package io.fetchq.db;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Webhook signatures as the Standard Webhooks specification defines them: a secret is
 * {@code whsec_} and the base64 of its key bytes; a delivery's {@code webhook-signature} header is
 * {@code v1,} and the base64 of HMAC-SHA256 over {@code id.timestamp.body}, with the delivery's
 * {@code webhook-id} and {@code webhook-timestamp} (Unix seconds). Receivers verify with the
 * specification's libraries (README).
 */
public final class WebhookSignature {

    /** How a secret starts. */
    public static final String SECRET_PREFIX = "whsec_";
    /** Key bytes of a new secret (the specification asks for 24 to 64). */
    static final int KEY_BYTES = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private WebhookSignature() {
    }

    /** A new random secret, {@code whsec_} and base64. */
    public static String newSecret() {
        byte[] key = new byte[KEY_BYTES];
        RANDOM.nextBytes(key);
        return SECRET_PREFIX + Base64.getEncoder().encodeToString(key);
    }

    /**
     * The {@code webhook-signature} header's value for a delivery.
     *
     * @throws IllegalArgumentException when {@code secret} is not {@code whsec_} and base64
     */
    public static String sign(String secret, String id, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key(secret), "HmacSHA256"));
            mac.update((id + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /**
     * Whether one of the space-separated signatures of a {@code webhook-signature} header is
     * {@code v1} over this delivery with {@code secret} (compared in constant time).
     */
    public static boolean verifies(String secret, String id, long timestampSeconds, byte[] body, String header) {
        byte[] expected = sign(secret, id, timestampSeconds, body).getBytes(StandardCharsets.US_ASCII);
        for (String signature : header.trim().split("\\s+")) {
            if (MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
                return true;
            }
        }
        return false;
    }

    private static byte[] key(String secret) {
        String encoded = secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : null;
        if (encoded == null) {
            throw new IllegalArgumentException("a webhook secret starts with " + SECRET_PREFIX);
        }
        try {
            return Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("a webhook secret is " + SECRET_PREFIX + " and base64", e);
        }
    }
}
