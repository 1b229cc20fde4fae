package io.fetchq.db;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Fetching policy shared by intake (which judges URLs at submit) and workers (which judge every
 * resolved address again at connect time).
 *
 * @param allowPrivateNetworks allow URLs and addresses in loopback, private, link-local and other
 *     blocked ranges. Default false. Only for local testing: with it, anyone who can submit a job
 *     can make fetchq reach services inside its network.
 */
@Validated
@ConfigurationProperties("fetchq.fetch")
public record FetchProperties(@DefaultValue("false") boolean allowPrivateNetworks) {
}
