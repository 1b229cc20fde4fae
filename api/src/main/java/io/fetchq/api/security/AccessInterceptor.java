package io.fetchq.api.security;

import io.fetchq.api.problem.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Checks, before a fetchq handler runs, that the caller holds one of the scopes its {@link
 * Requires} names (403 otherwise), and takes a permit of the caller's submission rate limit when
 * it says so, or of its read rate limit for every other {@code GET} (429 with Retry-After
 * otherwise). All before the request body is read.
 */
public class AccessInterceptor implements HandlerInterceptor {

    private final RateLimits submits;
    private final RateLimits reads;

    public AccessInterceptor(RateLimits submits, RateLimits reads) {
        this.submits = submits;
        this.reads = reads;
    }

    /** The rule of a handler method: on the method, else on its class; null when it has none. */
    public static Requires rule(HandlerMethod method) {
        Requires rule = method.getMethodAnnotation(Requires.class);
        return rule != null ? rule : method.getBeanType().getAnnotation(Requires.class);
    }

    /** Whether a handler is fetchq's own (not the OpenAPI description's, say). */
    public static boolean isOwn(HandlerMethod method) {
        return method.getBeanType().getPackageName().startsWith("io.fetchq.");
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        if (!(handler instanceof HandlerMethod method) || !isOwn(method)) {
            return true;
        }
        Requires rule = rule(method);
        Caller caller = (Caller) request.getAttribute(Caller.ATTRIBUTE);
        if (caller == null) {
            throw new ApiProblem(HttpStatus.UNAUTHORIZED, "Unauthorized", "an API key is needed")
                    .withHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"fetchq\"");
        }
        if (rule == null || Arrays.stream(rule.value()).noneMatch(caller::has)) {
            String needed = rule == null ? "admin" : Arrays.stream(rule.value()).map(Scope::label)
                    .collect(Collectors.joining(" "));
            throw new ApiProblem(HttpStatus.FORBIDDEN, "Forbidden", "this call needs an API key with the "
                    + needed.replace(" ", " or ") + " scope")
                    .withHeader(HttpHeaders.WWW_AUTHENTICATE,
                            "Bearer realm=\"fetchq\", error=\"insufficient_scope\", scope=\"" + needed + "\"");
        }
        if (rule.rateLimited()) {
            limit(submits, caller, "submission");
        } else if ("GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod())) {
            limit(reads, caller, "read");
        }
        return true;
    }

    private static void limit(RateLimits limits, Caller caller, String what) {
        Optional<Duration> wait = limits.acquire(caller);
        if (wait.isPresent()) {
            long seconds = Math.max(1, (wait.get().toMillis() + 999) / 1000);
            throw new ApiProblem(HttpStatus.TOO_MANY_REQUESTS, "Too many requests",
                    what + " rate limit reached (" + limits.setting() + "); retry in " + seconds + " s")
                    .withHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
        }
    }
}
