package io.fetchq.url;

import okhttp3.HttpUrl;

/**
 * What {@link UrlPolicy} made of one input: the normalised URL when it parses, and whether policy
 * allows fetching it. {@code url} is null when the input is not a valid http(s) URL.
 */
public record UrlCheck(String input, HttpUrl url, boolean allowed, String reason) {

    static UrlCheck invalid(String input, String reason) {
        return new UrlCheck(input, null, false, reason);
    }

    static UrlCheck blocked(String input, HttpUrl url, String reason) {
        return new UrlCheck(input, url, false, reason);
    }

    static UrlCheck allowed(String input, HttpUrl url) {
        return new UrlCheck(input, url, true, null);
    }

    public boolean valid() {
        return url != null;
    }

    /** The normalised URL as text, or null when invalid. */
    public String normalized() {
        return url == null ? null : url.toString();
    }
}
