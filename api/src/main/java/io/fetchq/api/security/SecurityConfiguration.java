package io.fetchq.api.security;

import io.fetchq.api.OneCommandMode;
import io.fetchq.db.ApiKeyQueries;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.MethodParameter;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.json.JsonMapper;

/**
 * API keys, tenants and scopes: decides at startup whether the API may serve without keys, and
 * wires authentication (a servlet filter), scope checks and rate limits (an MVC interceptor), and
 * the {@link Caller} handler parameter.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(SecurityProperties.class)
public class SecurityConfiguration implements WebMvcConfigurer {

    private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);

    private final SecurityProperties properties;

    SecurityConfiguration(SecurityProperties properties) {
        this.properties = properties;
    }

    /**
     * Open (no key needed) when {@code fetchq.security.allow-anonymous} says so, or in the
     * one-command mode: an embedded database and a server listening on loopback only. An open API
     * listening on loopback only also refuses keyless requests that name another host (DNS
     * rebinding). Decided while the context is built, before any server listens, as is the refusal
     * of an actuator port of its own.
     */
    @Bean
    SecurityMode securityMode(Environment environment, ConfigurableListableBeanFactory beans) {
        String managementPort = environment.getProperty("management.server.port");
        boolean ownPort = managementPort != null && !managementPort.equals("-1")
                && (managementPort.equals("0") || !managementPort.equals(environment.getProperty("server.port", "8080")));
        if (ownPort && !properties.publicMetrics()) {
            // Actuator on a port of its own runs outside the filter that checks keys.
            throw new IllegalStateException("management.server.port puts metrics on a port fetchq's key checks do "
                    + "not guard: remove it, or set fetchq.security.public-metrics=true if that port is private");
        }
        String address = environment.getProperty("server.address");
        boolean loopback = isLoopback(address);
        if (properties.allowAnonymous()) {
            return new SecurityMode(true, loopback, "fetchq.security.allow-anonymous=true");
        }
        boolean embedded = beans.getBeanNamesForType(OneCommandMode.class, false, false).length > 0;
        if (embedded && loopback) {
            return new SecurityMode(true, true, "one-command mode: embedded database, listening on " + address + " only");
        }
        return new SecurityMode(false, false, "API keys required");
    }

    private static boolean isLoopback(String address) {
        if (address == null || address.isBlank()) {
            return false;  // every interface
        }
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @Bean
    FilterRegistrationBean<AuthenticationFilter> fetchqAuthentication(ApiKeys keys, SecurityMode mode, JsonMapper json) {
        FilterRegistrationBean<AuthenticationFilter> registration =
                new FilterRegistrationBean<>(new AuthenticationFilter(keys, mode, properties, json));
        // After the observation filter (so refusals are counted), before everything else.
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
        return registration;
    }

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(new AccessInterceptor(RateLimits.submits(properties), RateLimits.reads(properties)));
        registry.addInterceptor(new io.fetchq.api.problem.QueryTextCheck());
    }

    @Override
    public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
        resolvers.add(new HandlerMethodArgumentResolver() {
            @Override
            public boolean supportsParameter(MethodParameter parameter) {
                return parameter.getParameterType() == Caller.class;
            }

            @Override
            public Object resolveArgument(MethodParameter parameter, ModelAndViewContainer mav, NativeWebRequest request,
                    WebDataBinderFactory binders) {
                Object caller = request.getAttribute(Caller.ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
                if (caller == null) {
                    throw new IllegalStateException("no caller on a request to " + parameter.getExecutable());
                }
                return caller;
            }
        });
    }

    /**
     * At startup: every fetchq handler declares who may call it (else the API does not start); an
     * API that needs keys has one (else it does not start, and says how to make one); an open API
     * says so in a warning.
     */
    @Bean
    ApplicationRunner fetchqSecurityCheck(SecurityMode mode, ApiKeys keys, ApiKeyQueries keyQueries,
            List<RequestMappingHandlerMapping> mappings) {
        return args -> {
            for (RequestMappingHandlerMapping mapping : mappings) {
                mapping.getHandlerMethods().forEach((info, method) -> {
                    if (AccessInterceptor.isOwn(method) && AccessInterceptor.rule(method) == null) {
                        throw new IllegalStateException(method + " (" + info + ") has no @Requires: say which scopes may call it");
                    }
                });
            }
            if (mode.open() && properties.allowAnonymous()) {
                log.warn("The API serves callers without an API key, with every scope ({}). Anyone who can reach "
                        + "it may submit, read and cancel every job.", mode.why());
                return;
            }
            if (mode.open()) {
                log.info("The API serves callers without an API key ({}); set server.address to serve other "
                        + "machines, and it will need keys.", mode.why());
                return;
            }
            if (!keys.hasConfiguredKey() && keyQueries.countActive() == 0) {
                throw new IllegalStateException("""
                        No API key exists, and the API serves only callers with a key. Either:
                          - set fetchq.security.admin-key (FETCHQ_SECURITY_ADMIN_KEY) to a secret of 32+ characters, or
                          - create a key in SQL: SELECT key FROM fetchq.create_api_key('default', '{admin}', 'first admin');
                          - or, on a trusted network only, set fetchq.security.allow-anonymous=true.""");
            }
            log.info("API keys required: {} active key(s){}", keyQueries.countActive(),
                    keys.hasConfiguredKey() ? " and the configured admin key" : "");
        };
    }
}
