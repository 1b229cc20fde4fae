package io.fetchq.db;

import io.fetchq.url.UrlPolicy;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What the {@code db} module contributes to an application: its queries and the URL policy. */
@Configuration(proxyBeanMethods = false)
@ComponentScan(basePackageClasses = DbConfiguration.class)
@EnableConfigurationProperties(FetchProperties.class)
public class DbConfiguration {

    @Bean
    UrlPolicy urlPolicy(FetchProperties properties) {
        return new UrlPolicy(properties.allowPrivateNetworks(), properties.allowedNetworks());
    }
}
