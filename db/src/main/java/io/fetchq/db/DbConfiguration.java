package io.fetchq.db;

import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What the {@code db} module contributes to an application: its queries. */
@Configuration(proxyBeanMethods = false)
@ComponentScan(basePackageClasses = DbConfiguration.class)
public class DbConfiguration {
}
