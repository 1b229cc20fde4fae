package io.fetchq.worker.fetch;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;

/** The few JSON values a worker reads (a job's headers) and writes (links, redirect chains). */
public final class Json {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Json() {
    }

    /** A job's headers object as a mutable, ordered map; empty for null. */
    public static Map<String, String> headers(String json) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (json != null) {
            for (Map.Entry<String, JsonNode> e : MAPPER.readTree(json).properties()) {
                headers.put(e.getKey(), e.getValue().asString());
            }
        }
        return headers;
    }

    public static String strings(List<String> values) {
        ArrayNode array = MAPPER.createArrayNode();
        values.forEach(array::add);
        return array.toString();
    }

    public static String redirects(List<FetchOutcome.Redirect> chain) {
        ArrayNode array = MAPPER.createArrayNode();
        for (FetchOutcome.Redirect hop : chain) {
            array.addObject().put("url", hop.url()).put("status", hop.status());
        }
        return array.toString();
    }
}
