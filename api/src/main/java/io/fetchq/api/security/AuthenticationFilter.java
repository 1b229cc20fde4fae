package io.fetchq.api.security;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Authenticates every request: a request with {@code Authorization: Bearer <key>} is its key's
 * caller or is refused with 401, whatever the path; a request without one is {@link
 * Caller#ANONYMOUS} when the API runs open. Then decides by path, failing closed: health, info and
 * the dashboard's own files are open to all (the page asks for a key); the OpenAPI description and
 * metrics as configured; everything else needs a caller. What each API call needs beyond that is
 * {@link AccessInterceptor}'s to check.
 */
public class AuthenticationFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(AuthenticationFilter.class);

    /** Paths anyone may read: the dashboard page asks for a key itself. */
    private static final Set<String> OPEN = Set.of("/", "/index.html", "/dashboard.js", "/dashboard.css",
            "/favicon.ico", "/actuator/health", "/actuator/info");

    private static final String BEARER = "Bearer ";

    /** Methods that change nothing. */
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

    private final ApiKeys keys;
    private final SecurityMode mode;
    private final SecurityProperties properties;
    private final JsonMapper json;

    public AuthenticationFilter(ApiKeys keys, SecurityMode mode, SecurityProperties properties, JsonMapper json) {
        this.keys = keys;
        this.mode = mode;
        this.properties = properties;
        this.json = json;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        // The decoded, normalised path, as handler mapping sees it (not the raw request URI).
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        // Every answer: never framed by another site, never sniffed as another type, no referrer
        // (URLs of jobs could carry secrets of their own).
        response.setHeader("X-Frame-Options", "DENY");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "no-referrer");
        String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
        Caller caller = null;
        if (authorization != null) {
            if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                refuse(response, path, 401, "Unauthorized", "Authorization must be \"Bearer <API key>\"",
                        "Bearer realm=\"fetchq\", error=\"invalid_request\"");
                return;
            }
            Optional<Caller> known;
            try {
                known = keys.authenticate(authorization.substring(BEARER.length()).strip());
            } catch (DataAccessException e) {
                log.warn("Database unavailable checking an API key for {} {}: {}", request.getMethod(), path, e.toString());
                response.setHeader("Retry-After", "5");
                refuse(response, path, 503, "Service unavailable",
                        "the database is unavailable, so the API key cannot be checked; try again later", null);
                return;
            }
            if (known.isEmpty()) {
                refuse(response, path, 401, "Unauthorized", "the API key is unknown or revoked",
                        "Bearer realm=\"fetchq\", error=\"invalid_token\"");
                return;
            }
            caller = known.get();
        } else if (mode.open()) {
            // No key: refused to a page elsewhere, which the browser would let send requests here.
            if (mode.loopbackOnly() && !isLoopback(request.getHeader(HttpHeaders.HOST))) {
                refuse(response, path, 403, "Forbidden", "without a key this API serves loopback only: the Host header "
                        + "must be localhost, 127.0.0.1 or [::1]", null);
                return;
            }
            if (!SAFE_METHODS.contains(request.getMethod()) && isCrossSite(request)) {
                refuse(response, path, 403, "Forbidden", "a request without a key from another site's page is refused "
                        + "(Origin or Sec-Fetch-Site)", null);
                return;
            }
            caller = Caller.ANONYMOUS;
        }
        if (caller != null) {
            request.setAttribute(Caller.ATTRIBUTE, caller);
        }
        boolean metrics = (path.equals("/actuator") || path.startsWith("/actuator/")) && !isOpen(path);
        boolean allowed = isOpen(path)
                || (isDocs(path) && properties.publicDocs())
                || (metrics && properties.publicMetrics())
                // Metrics name hosts (those waiting longest), whoever's jobs they are: an operator's view.
                || (caller != null && (!metrics || caller.has(Scope.ADMIN)));
        if (allowed) {
            chain.doFilter(request, response);
        } else if (caller == null) {
            refuse(response, path, 401, "Unauthorized", "an API key is needed: send Authorization: Bearer <key>",
                    "Bearer realm=\"fetchq\"");
        } else {
            refuse(response, path, 403, "Forbidden", "this needs an API key with the admin scope",
                    "Bearer realm=\"fetchq\", error=\"insufficient_scope\", scope=\"admin\"");
        }
    }

    /** Whether a Host header names this machine's loopback (any port). */
    static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        String name = host.toLowerCase(java.util.Locale.ROOT);
        if (name.startsWith("[")) {
            return name.startsWith("[::1]");
        }
        int colon = name.indexOf(':');
        name = colon < 0 ? name : name.substring(0, colon);
        return name.equals("localhost") || name.matches("127(\\.\\d{1,3}){3}");
    }

    /**
     * Whether a browser says the request comes from another site's page: by {@code Sec-Fetch-Site}
     * when it sends one (a page cannot forge it; {@code same-origin} and {@code none}, typed by the
     * user, are fine), else by an {@code Origin} naming another host than the request.
     */
    static boolean isCrossSite(HttpServletRequest request) {
        String site = request.getHeader("Sec-Fetch-Site");
        if (site != null) {
            return !(site.equals("same-origin") || site.equals("none"));
        }
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (origin == null) {
            return false;
        }
        String host = request.getHeader(HttpHeaders.HOST);
        return host == null || !(origin.equalsIgnoreCase("http://" + host) || origin.equalsIgnoreCase("https://" + host));
    }

    private static boolean isOpen(String path) {
        return OPEN.contains(path) || path.startsWith("/actuator/health/");
    }

    private static boolean isDocs(String path) {
        return path.equals("/swagger-ui.html") || path.startsWith("/swagger-ui/")
                || path.equals("/v3/api-docs") || path.startsWith("/v3/api-docs/");
    }

    private void refuse(HttpServletResponse response, String path, int status, String title, String detail,
            String challenge) throws IOException {
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", "about:blank");
        problem.put("title", title);
        problem.put("status", status);
        problem.put("detail", detail);
        problem.put("instance", path);
        response.setStatus(status);
        if (challenge != null) {
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, challenge);
        }
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), problem);
    }
}
