package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.fetchq.url.UrlCheck;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.fetchq.url.UrlPolicy;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * What fetchq makes of a URL before anyone submits it: the same parsing, normalisation and policy
 * as intake, without writing anything.
 */
@Tag(name = "Operations")
@RestController
@RequestMapping("/api/v1/urls")
class UrlController {

    private final UrlPolicy policy;

    UrlController(UrlPolicy policy) {
        this.policy = policy;
    }

    /**
     * A URL as fetchq sees it. {@code url} and its parts are null when the input does not parse as
     * an http(s) URL; {@code reason} says why a URL would not be fetched.
     */
    record ParsedUrl(String input, String url, String scheme, String host, Integer port, String path, String query,
            boolean allowed, String reason) {

        static ParsedUrl of(UrlCheck check) {
            if (!check.valid()) {
                return new ParsedUrl(check.input(), null, null, null, null, null, null, false, check.reason());
            }
            var url = check.url();
            return new ParsedUrl(check.input(), url.toString(), url.scheme(), url.host(), url.port(),
                    url.encodedPath(), url.encodedQuery(), check.allowed(), check.reason());
        }
    }

    @Operation(summary = "Parse a URL", description = "The normalised URL, its parts, and whether fetchq would fetch "
            + "it and why not; the same parsing and policy as intake, nothing written.")
    @Requires({Scope.SUBMIT, Scope.READ})
    @GetMapping("/parse")
    ParsedUrl parse(@RequestParam(required = false) String url) {
        if (url == null || url.isBlank()) {
            throw ApiProblem.invalid(List.of(FieldError.atParameter("url", "is required: the URL to parse")), 1);
        }
        return ParsedUrl.of(policy.check(url));
    }
}
