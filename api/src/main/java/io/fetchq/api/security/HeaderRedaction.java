package io.fetchq.api.security;

import io.fetchq.url.FetchProperties;
import io.fetchq.url.SecretHeaders;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * How the API shows a job's request headers: the values of secret ones
 * ({@code fetchq.fetch.secret-headers}) replaced by {@value #REDACTED}.
 */
@Component
public class HeaderRedaction {

    /** What the API shows in place of a secret header's value. */
    public static final String REDACTED = SecretHeaders.REDACTED;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final SecretHeaders secrets;

    HeaderRedaction(FetchProperties fetch) {
        this.secrets = SecretHeaders.of(fetch.secretHeaders());
    }

    public boolean isSecret(String name) {
        return secrets.isSecret(name);
    }

    /** A job's headers (as stored, JSON text) with every secret value replaced; null for none. */
    public Map<String, String> redact(String headersJson) {
        if (headersJson == null) {
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> header : JSON.readTree(headersJson).properties()) {
            headers.put(header.getKey(), header.getValue().asString());
        }
        return secrets.shown(headers);
    }
}
