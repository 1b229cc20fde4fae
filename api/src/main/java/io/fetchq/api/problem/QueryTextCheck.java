package io.fetchq.api.problem;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Refuses query parameters holding the NUL character, which PostgreSQL's text refuses: every
 * parameter ends up compared with or stored in text ({@code host}, {@code state}, a text batch's
 * defaults), and the database's refusal would otherwise be a 500. One check for every call, named
 * by parameter, before any handler reads them.
 */
public final class QueryTextCheck implements HandlerInterceptor {

    static final String DETAIL = "must not contain the NUL character (U+0000)";

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        if (request.getQueryString() == null) {
            return true;
        }
        List<FieldError> errors = new ArrayList<>();
        for (Map.Entry<String, String[]> parameter : request.getParameterMap().entrySet()) {
            String name = parameter.getKey();
            boolean nul = name.indexOf('\u0000') >= 0;
            for (String value : parameter.getValue()) {
                nul |= value != null && value.indexOf('\u0000') >= 0;
            }
            if (nul) {
                errors.add(FieldError.atParameter(name.replace("\u0000", "\\u0000"), DETAIL));
            }
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors, errors.size());
        }
        return true;
    }
}
