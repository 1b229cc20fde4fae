package io.fetchq.api.security;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The scopes that may call an API handler: any one of them will do, and {@link Scope#ADMIN} always
 * does. Every fetchq handler must say (on the method or its class); the API refuses to start
 * otherwise, so no call is ever left open by omission.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Requires {

    Scope[] value();

    /** Counts against the caller's submission rate limit ({@code fetchq.security.submit-rate-limit}). */
    boolean rateLimited() default false;
}
