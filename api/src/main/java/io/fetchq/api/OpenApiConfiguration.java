package io.fetchq.api;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.swagger.v3.core.jackson.ModelResolver;
import io.swagger.v3.core.util.Json;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.fetchq.api.security.AccessInterceptor;
import io.fetchq.api.security.Caller;
import io.fetchq.api.security.Requires;
import io.fetchq.api.security.Scope;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springdoc.core.utils.SpringDocUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI description at {@code /v3/api-docs} (Swagger UI at {@code /swagger-ui.html}): what
 * each call does comes from its controller's annotations; what each field means, and the problem
 * responses every call may give, are added here in one place.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

    static final String PROBLEM = "Problem";
    static final String PROBLEM_JSON = "application/problem+json";
    static final String BEARER = "bearer";
    /** Marks an operation with the scopes that may call it, for the customizer to add its problems. */
    private static final String SCOPES = "x-fetchq-scopes";
    private static final String RATE_LIMITED = "x-fetchq-rate-limited";

    static {
        // Handlers' Caller parameters are the authenticated caller, not request parameters.
        SpringDocUtils.getConfig().addRequestWrapperToIgnore(Caller.class);
    }

    @Bean
    OpenAPI fetchqOpenApi(ObjectProvider<BuildProperties> build) {
        BuildProperties b = build.getIfAvailable();
        return new OpenAPI()
                .info(new Info().title("fetchq").version(b == null ? "dev" : b.getVersion())
                        .description("A durable HTTP fetch queue on PostgreSQL: submit URLs, workers fetch them "
                                + "politely and safely, every result and attempt is stored. JSON in snake_case; "
                                + "every error is RFC 9457 application/problem+json.")
                        .license(new License().name("See the repository")))
                .components(new Components().addSchemas(PROBLEM, problemSchema())
                        .addSecuritySchemes(BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                                .description("An API key: Authorization: Bearer fq_...")));
    }

    private static Schema<?> problemSchema() {
        ObjectSchema error = new ObjectSchema();
        error.description("One thing wrong with the request: where, and what");
        error.addProperty("pointer", new StringSchema().description("JSON pointer into the body").example("/jobs/3/url"));
        error.addProperty("line", new IntegerSchema().description("line of a text/plain body, from 1").example(7));
        error.addProperty("parameter", new StringSchema().description("query parameter").example("state"));
        error.addProperty("detail", new StringSchema().description("what is wrong").example("must be an http or https URL"));
        ObjectSchema problem = new ObjectSchema();
        problem.description("RFC 9457 problem details, with every error of the request");
        problem.addProperty("type", new StringSchema().description("problem type URI").example("about:blank"));
        problem.addProperty("title", new StringSchema().description("short summary").example("Invalid request"));
        problem.addProperty("status", new IntegerSchema().description("HTTP status").example(400));
        problem.addProperty("detail", new StringSchema().description("what went wrong").example("2 problems in the request; see errors"));
        problem.addProperty("instance", new StringSchema().description("the request path").example("/api/v1/batches"));
        problem.addProperty("errors", new ArraySchema().items(error).description("each bad field, line or parameter"));
        return problem;
    }

    /**
     * Schemas named as the API writes them: swagger-core reads models with a Jackson 2 mapper of its
     * own, which knows nothing of {@code spring.jackson.property-naming-strategy}.
     */
    @Bean
    ModelResolver fetchqSnakeCaseModels() {
        return new ModelResolver(Json.mapper().copy().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE));
    }

    /** Says on each call which scopes may make it, from its {@link Requires}. */
    @Bean
    OperationCustomizer fetchqScopes() {
        return (operation, method) -> {
            Requires rule = AccessInterceptor.isOwn(method) ? AccessInterceptor.rule(method) : null;
            if (rule == null) {
                return operation;
            }
            String scopes = Arrays.stream(rule.value()).map(Scope::label).collect(Collectors.joining(" or "));
            String needs = rule.value().length == 1 && rule.value()[0] == Scope.ADMIN
                    ? "Needs an API key with the admin scope."
                    : "Needs an API key with the " + scopes + " scope (or admin).";
            operation.setDescription(operation.getDescription() == null ? needs : operation.getDescription() + " " + needs);
            operation.addSecurityItem(new SecurityRequirement().addList(BEARER));
            operation.addExtension(SCOPES, scopes);
            if (rule.rateLimited()) {
                operation.addExtension(RATE_LIMITED, true);
            }
            return operation;
        };
    }

    /**
     * Adds the problem responses every call may give (and makes every error response a problem), and
     * a description for every field.
     */
    @Bean
    OpenApiCustomizer fetchqProblemsAndFields() {
        return openApi -> {
            openApi.getPaths().forEach((path, item) -> item.readOperations().forEach(op -> {
                if (op.getParameters() != null) {
                    op.getParameters().forEach(p -> {
                        if (p.getDescription() == null) {
                            p.setDescription(ApiFields.PARAMETERS.get(p.getName()));
                        }
                    });
                }
                if (path.contains("{id}")) {
                    problem(op, "404", "No such job or batch");
                }
                if (op.getParameters() != null && !op.getParameters().isEmpty() || op.getRequestBody() != null) {
                    problem(op, "400", "Invalid request: nothing was written; errors name each bad field, line or parameter");
                }
                problem(op, "503", "The database cannot be reached; retry after Retry-After seconds");
                if (op.getExtensions() != null && op.getExtensions().remove(SCOPES) != null) {
                    problem(op, "401", "No API key, or an unknown or revoked one");
                    problem(op, "403", "The API key lacks the scope this call needs");
                    if (op.getExtensions().remove(RATE_LIMITED) != null) {
                        problem(op, "429", "The key's submission rate limit is reached; retry after Retry-After seconds");
                    }
                }
                // Every error answer is a problem, whatever the controller's annotation said of it.
                op.getResponses().forEach((status, response) -> {
                    if (status.matches("[45]\\d\\d")) {
                        response.setContent(problemContent());
                    }
                });
            }));
            if (openApi.getComponents().getSchemas() != null) {
                openApi.getComponents().getSchemas().forEach((name, schema) -> describeFields(schema));
            }
        };
    }

    private static void problem(Operation op, String status, String description) {
        if (op.getResponses().containsKey(status)) {
            return;
        }
        op.getResponses().addApiResponse(status, new ApiResponse().description(description).content(problemContent()));
    }

    private static Content problemContent() {
        return new Content().addMediaType(PROBLEM_JSON,
                new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM)));
    }

    @SuppressWarnings("rawtypes")
    private static void describeFields(Schema<?> schema) {
        Map<String, Schema> properties = schema.getProperties();
        if (properties == null) {
            return;
        }
        properties.forEach((name, property) -> {
            ApiFields.Field field = ApiFields.FIELDS.get(name);
            if (field != null) {
                if (property.getDescription() == null) {
                    property.setDescription(field.description());
                }
                if (property.getExample() == null && field.example() != null && property.get$ref() == null) {
                    property.setExample(field.example());
                }
            }
        });
    }
}
