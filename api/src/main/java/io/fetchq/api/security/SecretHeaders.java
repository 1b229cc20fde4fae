package io.fetchq.api.security;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The request headers whose values a job uses for its fetch but the API never shows: those named
 * by {@code fetchq.security.secret-headers}, case-insensitively, {@code *} matching any characters.
 */
@Component
public class SecretHeaders {

    /** What the API shows in place of a secret header's value. */
    public static final String REDACTED = "[redacted]";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Pattern secret;

    @Autowired
    SecretHeaders(SecurityProperties properties) {
        this(properties.secretHeaders());
    }

    SecretHeaders(List<String> names) {
        String alternatives = names.stream()
                .map(n -> n.strip().toLowerCase(Locale.ROOT))
                .filter(n -> !n.isEmpty())
                .map(n -> Pattern.quote(n).replace("*", "\\E.*\\Q"))
                .collect(Collectors.joining("|"));
        this.secret = alternatives.isEmpty() ? null : Pattern.compile(alternatives);
    }

    public boolean isSecret(String name) {
        return secret != null && secret.matcher(name.toLowerCase(Locale.ROOT)).matches();
    }

    /** A job's headers (as stored, JSON text) with every secret value replaced; null for none. */
    public Map<String, String> redact(String headersJson) {
        if (headersJson == null) {
            return null;
        }
        Map<String, String> shown = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> header : JSON.readTree(headersJson).properties()) {
            shown.put(header.getKey(), isSecret(header.getKey()) ? REDACTED : header.getValue().asString());
        }
        return shown;
    }
}
