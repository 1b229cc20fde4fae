package io.fetchq.url;

import crawlercommons.domains.EffectiveTldFinder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import okhttp3.HttpUrl;

/**
 * What a crawl needs of a URL: the key it is de-duplicated by, and the scope it belongs to.
 *
 * <p>The key is the URL normalised per RFC 3986 section 6 (scheme and host lower-case, default port
 * dropped, dot segments resolved: {@link UrlPolicy} and OkHttp already do those; percent-encodings
 * of unreserved characters decoded and the others upper-cased; fragment dropped) with its query
 * parameters sorted. Two URLs with one key are one page to a crawl.
 */
public final class CrawlUrls {

    /** Which links a crawl follows, by their seeds. */
    public enum Scope {
        /** Scheme, host and port of a seed. */
        SAME_ORIGIN("same-origin"),
        /** A seed's host, any scheme or port. */
        SAME_HOST("same-host"),
        /** A seed's registrable domain by the Public Suffix List, its private part included. */
        SAME_SITE("same-site");

        private final String code;

        Scope(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }

        public static Scope of(String code) {
            for (Scope s : values()) {
                if (s.code.equals(code)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("scope must be same-origin, same-host or same-site");
        }
    }

    private CrawlUrls() {
    }

    /** The scope key of a URL: what two URLs of one scope share. */
    public static String scopeKey(Scope scope, HttpUrl url) {
        return switch (scope) {
            case SAME_ORIGIN -> origin(url);
            case SAME_HOST -> url.host();
            case SAME_SITE -> site(url.host());
        };
    }

    /** A URL's origin as {@code scheme://host:port}, the port always written (robots.txt is per origin). */
    public static String origin(HttpUrl url) {
        String host = url.host().indexOf(':') >= 0 ? "[" + url.host() + "]" : url.host();
        return url.scheme() + "://" + host + ":" + url.port();
    }

    /**
     * The registrable domain of a host by the Public Suffix List with its private part ({@code
     * a.github.io} and {@code b.github.io} are two sites); an IP address, or a name the list does
     * not know the suffix of, is its own site by its last two labels.
     */
    public static String site(String host) {
        if (host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
            return host;
        }
        String site = EffectiveTldFinder.getAssignedDomain(host, false, false);
        return site == null ? host : site;
    }

    /** The de-duplication key of a URL normalised by {@link UrlPolicy}, as text (see the class comment). */
    public static String key(HttpUrl url) {
        StringBuilder key = new StringBuilder(url.scheme()).append("://").append(url.host());
        if (url.port() != HttpUrl.defaultPort(url.scheme())) {
            key.append(':').append(url.port());
        }
        key.append(normalizeEncoding(url.encodedPath()));
        String query = url.encodedQuery();
        if (query != null) {
            List<String> params = new ArrayList<>(List.of(query.split("&", -1)));
            params.replaceAll(CrawlUrls::normalizeEncoding);
            params.sort(null);
            key.append('?').append(String.join("&", params));
        }
        return key.toString();
    }

    /** SHA-256 of {@link #key}: what the frontier's unique index holds. */
    public static byte[] keyHash(HttpUrl url) {
        return hash(key(url));
    }

    /** SHA-256 of a key. */
    public static byte[] hash(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Decodes percent-encoded unreserved characters and upper-cases the hex digits of the rest (RFC 3986, 6.2.2). */
    static String normalizeEncoding(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
                char decoded = (char) (hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
                if (unreserved(decoded)) {
                    out.append(decoded);
                } else {
                    out.append('%').append(s.substring(i + 1, i + 3).toUpperCase(Locale.ROOT));
                }
                i += 2;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }

    private static boolean unreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~';
    }
}
