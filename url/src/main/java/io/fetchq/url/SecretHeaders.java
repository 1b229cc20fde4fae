package io.fetchq.url;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Request headers whose values are credentials ({@code fetchq.fetch.secret-headers}): names
 * matched case-insensitively, {@code *} standing for any characters. The API never shows their
 * values; workers send them only to the origin (scheme, host and port) the job named, never on to
 * another one a redirect points at.
 */
public final class SecretHeaders {

    /** Secret whatever the setting says: what a redirect to another origin never carries. */
    private static final Set<String> ALWAYS = Set.of("authorization", "proxy-authorization", "cookie");

    private final Pattern configured;

    private SecretHeaders(Pattern configured) {
        this.configured = configured;
    }

    public static SecretHeaders of(List<String> names) {
        String alternatives = names.stream()
                .map(n -> n.strip().toLowerCase(Locale.ROOT))
                .filter(n -> !n.isEmpty())
                .map(n -> Pattern.quote(n).replace("*", "\\E.*\\Q"))
                .collect(Collectors.joining("|"));
        return new SecretHeaders(alternatives.isEmpty() ? null : Pattern.compile(alternatives));
    }

    /** Whether the header's value must never be shown (as configured). */
    public boolean isSecret(String name) {
        return configured != null && configured.matcher(name.toLowerCase(Locale.ROOT)).matches();
    }

    /** What is shown in place of a secret header's value. */
    public static final String REDACTED = "[redacted]";

    /** Headers as shown to anyone but the fetch itself: each secret value replaced by {@value #REDACTED}. */
    public Map<String, String> shown(Map<String, String> headers) {
        Map<String, String> shown = new LinkedHashMap<>();
        headers.forEach((name, value) -> shown.put(name, isSecret(name) ? REDACTED : value));
        return shown;
    }

    /** Whether a redirect to another origin must drop the header: configured secrets and credentials. */
    public boolean staysWithOrigin(String name) {
        return ALWAYS.contains(name.toLowerCase(Locale.ROOT)) || isSecret(name);
    }
}
