package io.fetchq.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The fetchq REST API as the command sees it: JSON in, JSON out, problems as {@link ApiError}. */
final class Api {

    static final JsonMapper JSON = JsonMapper.builder().build();

    private final String base;
    private final String key;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** The API at {@code base}, called with {@code key} (none when null or blank). */
    Api(String base, String key) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.key = key == null || key.isBlank() ? null : key.strip();
    }

    /** A refusal or failure from the API, with its problem details when it sent them. */
    static final class ApiError extends RuntimeException {
        final int status;
        final JsonNode problem;

        ApiError(int status, JsonNode problem, String message) {
            super(message);
            this.status = status;
            this.problem = problem;
        }

        /** The same error, with each JSON pointer of its problem told as {@code where} says. */
        ApiError locate(java.util.function.UnaryOperator<String> where) {
            return problem == null ? this : new ApiError(status, problem, describe(status, problem, where));
        }
    }

    JsonNode get(String path) {
        return send(request(path).GET());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return request;
    }

    JsonNode post(String path, String contentType, byte[] body) {
        return send(request(path).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** A streamed body (a results export), for copying out as it arrives. */
    InputStream stream(String path) {
        try {
            HttpResponse<InputStream> response = http.send(request(path).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() >= 400) {
                String text;
                try (InputStream in = response.body()) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                throw error(response.statusCode(), text);
            }
            return response.body();
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(0, null, "interrupted");
        }
    }

    static String query(Map<String, String> params) {
        return params.isEmpty() ? "" : "?" + params.entrySet().stream()
                .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
    }

    static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private JsonNode send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = http.send(request.header("Accept", "application/json").build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 400) {
                throw error(response.statusCode(), response.body());
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(0, null, "interrupted");
        }
    }

    private ApiError unreachable(IOException e) {
        return new ApiError(0, null, "cannot reach the fetchq API at " + base + " (" + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); start it, or point --api at it");
    }

    private static ApiError error(int status, String body) {
        JsonNode problem = null;
        try {
            problem = JSON.readTree(body);
        } catch (RuntimeException notJson) {
            // a proxy's HTML page, say
        }
        return new ApiError(status, problem, describe(status, problem, pointer -> pointer));
    }

    private static String describe(int status, JsonNode problem, java.util.function.UnaryOperator<String> located) {
        StringBuilder message = new StringBuilder("HTTP " + status);
        if (status == 401) {
            message.append(" (set FETCHQ_API_KEY to a key of this API)");
        }
        if (problem != null && problem.has("title")) {
            message.append(": ").append(problem.path("title").asString());
            if (problem.has("detail")) {
                message.append(": ").append(problem.path("detail").asString());
            }
            for (JsonNode e : problem.path("errors")) {
                String where = e.has("line") ? "line " + e.path("line").asInt()
                        : e.has("pointer") ? located.apply(e.path("pointer").asString())
                        : e.has("parameter") ? "parameter " + e.path("parameter").asString() : "";
                message.append("\n  ").append(where).append(where.isEmpty() ? "" : ": ").append(e.path("detail").asString());
            }
        }
        return message.toString();
    }
}
