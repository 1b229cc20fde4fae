package io.fetchq.url;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;

/**
 * Parses, normalises and judges the URLs that jobs ask to fetch.
 *
 * <p>Normalisation is OkHttp's {@link HttpUrl} (lower-case scheme and host, IDN to punycode,
 * default port dropped, percent-encoding made canonical) plus two steps of ours: the fragment is
 * dropped (it is never sent), and numeric hosts are read by the WHATWG IPv4 rules, so that
 * {@code 0x7f000001}, {@code 2130706433}, {@code 017700000001} and {@code 127.1} all become
 * {@code 127.0.0.1}. OkHttp keeps such hosts as names and the system resolver would turn them
 * into loopback addresses behind our back.
 *
 * <p>Only IP literals and {@code localhost} names can be judged here; names that resolve to a
 * blocked address are refused at connect time by the fetcher's DNS check.
 */
public final class UrlPolicy {

    /** The longest URL accepted, the de-facto limit browsers and servers agree on. */
    public static final int MAX_URL_LENGTH = 2083;

    private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*):");

    private final boolean allowPrivateNetworks;
    private final List<BlockedAddresses.Range> allowedNetworks;

    public UrlPolicy(boolean allowPrivateNetworks) {
        this(allowPrivateNetworks, List.of());
    }

    /**
     * @param allowedNetworks ranges allowed even though they are blocked by default (CIDR), e.g. one
     *     internal service's subnet
     */
    public UrlPolicy(boolean allowPrivateNetworks, List<String> allowedNetworks) {
        this.allowPrivateNetworks = allowPrivateNetworks;
        this.allowedNetworks = allowedNetworks.stream().map(BlockedAddresses.Range::parse).toList();
    }

    public UrlCheck check(String input) {
        if (input == null || input.isEmpty()) {
            return UrlCheck.invalid(input, "URL is empty");
        }
        if (input.length() > MAX_URL_LENGTH) {
            return UrlCheck.invalid(input, "URL is longer than " + MAX_URL_LENGTH + " characters");
        }
        for (int i = 0; i < input.length(); i++) {
            char c = input.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                return UrlCheck.invalid(input, "URL contains whitespace or control characters");
            }
        }
        var scheme = SCHEME.matcher(input);
        if (!scheme.find()) {
            return UrlCheck.invalid(input, "URL must be absolute, starting with http:// or https://");
        }
        String schemeName = scheme.group(1).toLowerCase(Locale.ROOT);
        if (!schemeName.equals("http") && !schemeName.equals("https")) {
            return UrlCheck.invalid(input, "scheme '" + schemeName + "' is not allowed: only http and https");
        }
        HttpUrl parsed = HttpUrl.parse(input);
        if (parsed == null) {
            return UrlCheck.invalid(input, "not a valid http(s) URL");
        }
        HttpUrl.Builder builder = parsed.newBuilder().fragment(null);
        String host = parsed.host();
        InetAddress literal;
        try {
            literal = ipLiteral(host);
        } catch (IllegalArgumentException e) {
            return UrlCheck.invalid(input, e.getMessage());
        }
        if (literal != null) {
            builder.host(literal.getHostAddress());
        }
        HttpUrl url = builder.build();
        if (allowPrivateNetworks) {
            return UrlCheck.allowed(input, url);
        }
        Optional<String> blocked = literal != null
                ? blockedAddress(literal).map(r -> "host " + literal.getHostAddress() + " is a " + r)
                : localName(host);
        return blocked.map(reason -> UrlCheck.blocked(input, url, reason))
                .orElseGet(() -> UrlCheck.allowed(input, url));
    }

    /** Why a resolved address must not be connected to, or empty when it may. */
    public Optional<String> blockedAddress(InetAddress address) {
        if (allowPrivateNetworks) {
            return Optional.empty();
        }
        byte[] bytes = address.getAddress();
        for (BlockedAddresses.Range allowed : allowedNetworks) {
            if (allowed.contains(bytes)) {
                return Optional.empty();
            }
        }
        return BlockedAddresses.reason(address);
    }

    private static Optional<String> localName(String host) {
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (name.equals("localhost") || name.endsWith(".localhost")) {
            return Optional.of("host " + host + " is a loopback name");
        }
        return Optional.empty();
    }

    /**
     * The address a host names literally, or null for a host name. IPv6 literals come without
     * brackets from {@link HttpUrl#host()}. Throws for a host that looks numeric but is not a
     * valid IPv4 address (the WHATWG URL standard makes that a parse failure).
     */
    static InetAddress ipLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return literalAddress(host);
        }
        String[] parts = host.split("\\.", -1);
        int count = parts.length;
        if (count > 1 && parts[count - 1].isEmpty()) {
            count--; // one trailing dot is allowed
        }
        if (!looksNumeric(parts[count - 1])) {
            return null;
        }
        if (count > 4) {
            throw new IllegalArgumentException("host " + host + " is not a valid IPv4 address");
        }
        long[] numbers = new long[count];
        for (int i = 0; i < count; i++) {
            numbers[i] = ipv4Number(parts[i], host);
        }
        for (int i = 0; i < count - 1; i++) {
            if (numbers[i] > 255) {
                throw new IllegalArgumentException("host " + host + " is not a valid IPv4 address");
            }
        }
        if (numbers[count - 1] >= 1L << (8 * (5 - count))) {
            throw new IllegalArgumentException("host " + host + " is not a valid IPv4 address");
        }
        long value = numbers[count - 1];
        for (int i = 0; i < count - 1; i++) {
            value += numbers[i] << (8 * (3 - i));
        }
        byte[] bytes = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean looksNumeric(String part) {
        if (part.isEmpty()) {
            return false;
        }
        if (part.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return true;
        }
        return (part.startsWith("0x") || part.startsWith("0X"))
                && part.substring(2).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    private static long ipv4Number(String part, String host) {
        if (part.isEmpty()) {
            throw new IllegalArgumentException("host " + host + " is not a valid IPv4 address");
        }
        int radix = 10;
        String digits = part;
        if (part.startsWith("0x") || part.startsWith("0X")) {
            radix = 16;
            digits = part.substring(2);
        } else if (part.length() > 1 && part.charAt(0) == '0') {
            radix = 8;
            digits = part.substring(1);
        }
        if (digits.isEmpty()) {
            return 0;
        }
        if (digits.length() > 12) {
            throw new IllegalArgumentException("host " + host + " is not a valid IPv4 address");
        }
        try {
            return Long.parseLong(digits, radix);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("host " + host + " is not a valid IPv4 address");
        }
    }

    private static InetAddress literalAddress(String host) {
        try {
            // An IPv6 literal: getByName parses it without any lookup.
            return InetAddress.getByName(host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("host " + host + " is not a valid IPv6 address");
        }
    }
}
