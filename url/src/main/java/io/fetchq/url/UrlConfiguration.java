package io.fetchq.url;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** What the {@code url} module contributes to an application: the fetching policy and the URL policy built from it. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(FetchProperties.class)
public class UrlConfiguration {

    @Bean
    UrlPolicy urlPolicy(FetchProperties properties) {
        return new UrlPolicy(properties.allowPrivateNetworks(), properties.allowedNetworks());
    }
}
