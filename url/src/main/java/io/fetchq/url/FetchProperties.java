package io.fetchq.url;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Fetching policy shared by intake (which judges URLs at submit) and workers (which judge every
 * resolved address again at connect time, and fetch).
 *
 * @param allowPrivateNetworks allow URLs and addresses in loopback, private, link-local and other
 *     blocked ranges. Default false. Only for local testing: with it, anyone who can submit a job
 *     can make fetchq reach services inside its network.
 * @param allowedNetworks address ranges (CIDR) allowed although blocked by default, e.g.
 *     {@code 10.20.0.0/16} for one internal service. Default none.
 * @param connectTimeout time to open a TCP connection (and finish TLS). Default 10s.
 * @param readTimeout longest silence on an open connection (handshake, request, response). Default 30s.
 * @param maxRedirects most redirect hops followed per attempt; one more fails the attempt with
 *     {@code too_many_redirects}. Default 10.
 * @param userAgent {@code User-Agent} sent unless a job sets its own. Default {@code fetchq/0.1}.
 * @param secretHeaders request headers whose values are credentials: used for the fetch, shown by
 *     the API as {@code [redacted]}, and not carried by a redirect to another origin (nor are
 *     {@code Authorization}, {@code Proxy-Authorization} and {@code Cookie}, whatever this says).
 *     Case-insensitive; {@code *} matches any characters.
 */
@Validated
@ConfigurationProperties("fetchq.fetch")
public record FetchProperties(
        @DefaultValue("false") boolean allowPrivateNetworks,
        @DefaultValue List<String> allowedNetworks,
        @DefaultValue("10s") @NotNull Duration connectTimeout,
        @DefaultValue("30s") @NotNull Duration readTimeout,
        @DefaultValue("10") @Min(0) @Max(50) int maxRedirects,
        @DefaultValue("fetchq/0.1") @NotBlank String userAgent,
        @DefaultValue({"Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "*token*", "*secret*",
                "*password*"}) List<String> secretHeaders) {

    public FetchProperties {
        allowedNetworks = allowedNetworks == null ? List.of() : List.copyOf(allowedNetworks);
        allowedNetworks.forEach(BlockedAddresses.Range::parse); // fails startup on a bad range
        secretHeaders = secretHeaders == null ? List.of() : List.copyOf(secretHeaders);
        if (connectTimeout != null && (connectTimeout.isZero() || connectTimeout.isNegative())) {
            throw new IllegalArgumentException("fetchq.fetch.connect-timeout must be positive");
        }
        if (readTimeout != null && (readTimeout.isZero() || readTimeout.isNegative())) {
            throw new IllegalArgumentException("fetchq.fetch.read-timeout must be positive");
        }
    }
}
