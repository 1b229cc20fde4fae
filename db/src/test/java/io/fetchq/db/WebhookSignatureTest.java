package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** Signatures against the Standard Webhooks specification's own example. */
class WebhookSignatureTest {

    /** The specification's published example: secret, message id, timestamp, payload and signature. */
    private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static final String ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private static final long TIMESTAMP = 1614265330L;
    private static final byte[] PAYLOAD = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
    private static final String SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    @Test
    void signsAsTheSpecificationsExample() {
        assertThat(WebhookSignature.sign(SECRET, ID, TIMESTAMP, PAYLOAD)).isEqualTo(SIGNATURE);
    }

    @Test
    void verifiesAmongSeveralSignaturesAndRefusesAnyChange() {
        assertThat(WebhookSignature.verifies(SECRET, ID, TIMESTAMP, PAYLOAD, "v1,bm9wZQ== " + SIGNATURE)).isTrue();
        assertThat(WebhookSignature.verifies(SECRET, ID, TIMESTAMP + 1, PAYLOAD, SIGNATURE)).isFalse();
        assertThat(WebhookSignature.verifies(SECRET, ID + "x", TIMESTAMP, PAYLOAD, SIGNATURE)).isFalse();
        assertThat(WebhookSignature.verifies(SECRET, ID, TIMESTAMP, "{\"test\": 2432232315}".getBytes(StandardCharsets.UTF_8),
                SIGNATURE)).isFalse();
        assertThat(WebhookSignature.verifies(WebhookSignature.newSecret(), ID, TIMESTAMP, PAYLOAD, SIGNATURE)).isFalse();
    }

    @Test
    void newSecretsAreRandomKeysInTheSpecificationsForm() {
        String secret = WebhookSignature.newSecret();
        assertThat(secret).startsWith("whsec_").isNotEqualTo(WebhookSignature.newSecret());
        assertThat(Base64.getDecoder().decode(secret.substring(6))).hasSize(WebhookSignature.KEY_BYTES);
        String signature = WebhookSignature.sign(secret, ID, TIMESTAMP, PAYLOAD);
        assertThat(WebhookSignature.verifies(secret, ID, TIMESTAMP, PAYLOAD, signature)).isTrue();
        assertThatThrownBy(() -> WebhookSignature.sign("MfKQ9r8G", ID, TIMESTAMP, PAYLOAD)).hasMessageContaining("whsec_");
        assertThatThrownBy(() -> WebhookSignature.sign("whsec_%%%", ID, TIMESTAMP, PAYLOAD)).hasMessageContaining("base64");
    }
}
