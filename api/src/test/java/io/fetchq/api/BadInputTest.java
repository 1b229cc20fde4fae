package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** Every kind of bad submission answers a problem naming where it is wrong, and writes nothing. */
class BadInputTest extends ApiTestBase {

    private static final String JOBS = "/api/v1/jobs";
    private static final String BATCHES = "/api/v1/batches";
    private static final String JSON_TYPE = "application/json";
    private static final String TEXT = "text/plain";

    static Stream<Arguments> badSubmissions() {
        String big = "x".repeat(9000);
        String bigHeader = "v".repeat(17_000);
        return Stream.of(
                bad("malformed JSON", JOBS, JSON_TYPE, "{\"url\": ", 400, null),
                bad("trailing garbage", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\"} x", 400, null),
                bad("empty body", JOBS, JSON_TYPE, "", 400, "pointer="),
                bad("not an object", JOBS, JSON_TYPE, "[1, 2]", 400, "pointer="),
                bad("duplicate field", JOBS, JSON_TYPE, "{\"url\": \"http://a.com/\", \"url\": \"http://b.com/\"}", 400, null),
                bad("unknown field", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"colour\": 1}", 400, "pointer=/colour"),
                bad("missing url", JOBS, JSON_TYPE, "{\"priority\": 1}", 400, "pointer=/url"),
                bad("url not a string", JOBS, JSON_TYPE, "{\"url\": 5}", 400, "pointer=/url"),
                bad("relative url", JOBS, JSON_TYPE, "{\"url\": \"/path\"}", 400, "pointer=/url"),
                bad("ftp scheme", JOBS, JSON_TYPE, "{\"url\": \"ftp://e.com/f\"}", 400, "pointer=/url"),
                bad("file scheme", JOBS, JSON_TYPE, "{\"url\": \"file:///etc/passwd\"}", 400, "pointer=/url"),
                bad("loopback literal", JOBS, JSON_TYPE, "{\"url\": \"http://127.0.0.1:8080/\"}", 400, "pointer=/url"),
                bad("hex loopback", JOBS, JSON_TYPE, "{\"url\": \"http://0x7f000001/\"}", 400, "pointer=/url"),
                bad("decimal loopback", JOBS, JSON_TYPE, "{\"url\": \"http://2130706433/\"}", 400, "pointer=/url"),
                bad("mapped loopback", JOBS, JSON_TYPE, "{\"url\": \"http://[::ffff:127.0.0.1]/\"}", 400, "pointer=/url"),
                bad("metadata endpoint", JOBS, JSON_TYPE, "{\"url\": \"http://169.254.169.254/latest/\"}", 400, "pointer=/url"),
                bad("url too long", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/" + "a".repeat(2100) + "\"}", 400, "pointer=/url"),
                bad("unknown method", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"method\": \"TRACE\"}", 400, "pointer=/method"),
                bad("max_attempts 0", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"max_attempts\": 0}", 400, "pointer=/max_attempts"),
                bad("max_attempts 26", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"max_attempts\": 26}", 400, "pointer=/max_attempts"),
                bad("priority beyond int", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"priority\": 99999999999}", 400, "pointer=/priority"),
                bad("priority above the range", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"priority\": 1001}", 400, "pointer=/priority"),
                bad("priority below the range", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"priority\": -1001}", 400, "pointer=/priority"),
                bad("priority at int's top", BATCHES + "?priority=2147483647", TEXT, "http://e.com/\n", 400, "parameter=priority"),
                bad("priority fraction", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"priority\": 1.5}", 400, "pointer=/priority"),
                bad("priority string", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"priority\": \"high\"}", 400, "pointer=/priority"),
                bad("timeout zero", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"timeout_ms\": 0}", 400, "pointer=/timeout_ms"),
                bad("timeout too long", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"timeout_ms\": 600001}", 400, "pointer=/timeout_ms"),
                bad("negative body cap", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"max_body_bytes\": -1}", 400, "pointer=/max_body_bytes"),
                bad("body cap over ceiling", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"max_body_bytes\": 67108865}", 400, "pointer=/max_body_bytes"),
                bad("negative delay", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"delay_ms\": -5}", 400, "pointer=/delay_ms"),
                bad("run_at not a date", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"run_at\": \"tomorrow\"}", 400, "pointer=/run_at"),
                bad("run_at without offset", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"run_at\": \"2030-01-01T00:00:00\"}", 400, "pointer=/run_at"),
                bad("run_at too far ahead", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"run_at\": \"2100-01-01T00:00:00Z\"}", 400, "pointer=/run_at"),
                bad("run_at in year 0", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"run_at\": \"0000-01-01T00:00:00Z\"}", 400, "pointer=/run_at"),
                bad("run_at before year 0", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"run_at\": \"-0001-06-01T00:00:00Z\"}", 400, "pointer=/run_at"),
                bad("run_at in year 1 before UTC", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"run_at\": \"0001-01-01T00:00:00+01:00\"}", 400, "pointer=/run_at"),
                bad("run_at after 9999", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"run_at\": \"+10000-01-01T00:00:00Z\"}", 400, "pointer=/run_at"),
                bad("text batch run_at in year 0", BATCHES + "?run_at=0000-01-01T00:00:00Z", TEXT, "http://e.com/\n", 400, "parameter=run_at"),
                bad("NUL in a metadata key", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"metadata\": {\"a\\u0000b\": 1}}", 400, "pointer=/metadata"),
                bad("NUL in a metadata string", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"metadata\": {\"a\": [\"ok\", {\"b\": \"x\\u0000\"}]}}", 400, "pointer=/metadata/a/1/b"),
                bad("NUL in batch defaults' metadata", BATCHES, JSON_TYPE, "{\"defaults\": {\"metadata\": {\"k\": \"\\u0000\"}}, \"urls\": [\"http://e.com/\"]}", 400, "pointer=/defaults/metadata/k"),
                bad("NUL in an idempotency key", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"idempotency_key\": \"k\\u0000\"}", 400, "pointer=/idempotency_key"),
                bad("NUL in a text batch parameter", BATCHES + "?priority=1%00", TEXT, "http://e.com/\n", 400, "parameter=priority"),
                bad("NUL in a parameter name", BATCHES + "?prio%00rity=1", TEXT, "http://e.com/\n", 400, "parameter=prio\\u0000rity"),
                bad("run_at and delay", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"run_at\": \"2027-01-01T00:00:00Z\", \"delay_ms\": 5}", 400, "pointer=/delay_ms"),
                bad("store_body not boolean", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"store_body\": \"yes\"}", 400, "pointer=/store_body"),
                bad("unknown extract", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"extract\": [\"title\", \"images\"]}", 400, "pointer=/extract/1"),
                bad("metadata not object", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"metadata\": [1]}", 400, "pointer=/metadata"),
                bad("metadata too big", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"metadata\": {\"x\": \"" + big + "\"}}", 400, "pointer=/metadata"),
                bad("headers not object", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"headers\": [\"a\"]}", 400, "pointer=/headers"),
                bad("header value not string", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"headers\": {\"X-N\": 1}}", 400, "pointer=/headers/X-N"),
                bad("header injection", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"headers\": {\"X-A\": \"a\\r\\nHost: evil\"}}", 400, "pointer=/headers/X-A"),
                bad("bad header name", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"headers\": {\"X A\": \"a\"}}", 400, "pointer=/headers/X A"),
                bad("reserved header", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"headers\": {\"Content-Length\": \"5\"}}", 400, "pointer=/headers/Content-Length"),
                bad("headers too big", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"headers\": {\"X-Big\": \"" + bigHeader + "\"}}", 400, "pointer=/headers"),
                bad("body on GET", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"body\": \"x\"}", 400, "pointer=/body"),
                bad("body and body_base64", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"method\": \"POST\", \"body\": \"x\", \"body_base64\": \"eA==\"}", 400, "pointer=/body_base64"),
                bad("bad base64", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"method\": \"POST\", \"body_base64\": \"!!!\"}", 400, "pointer=/body_base64"),
                bad("body too big", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"method\": \"POST\", \"body\": \"" + "b".repeat(1_048_577) + "\"}", 400, "pointer=/body"),
                bad("empty idempotency key", JOBS, JSON_TYPE, "{\"url\": \"http://e.com/\", \"idempotency_key\": \"\"}", 400, "pointer=/idempotency_key"),
                bad("wrong content type", JOBS, "application/xml", "<job/>", 415, null),
                bad("batch not an object", BATCHES, JSON_TYPE, "[\"http://e.com/\"]", 400, "pointer="),
                bad("batch without jobs", BATCHES, JSON_TYPE, "{\"defaults\": {}}", 400, "pointer="),
                bad("batch with empty jobs", BATCHES, JSON_TYPE, "{\"jobs\": []}", 400, "pointer=/jobs"),
                bad("batch with empty urls", BATCHES, JSON_TYPE, "{\"urls\": []}", 400, "pointer=/urls"),
                bad("batch with jobs and urls", BATCHES, JSON_TYPE, "{\"jobs\": [{\"url\": \"http://e.com/\"}], \"urls\": [\"http://e.com/\"]}", 400, "pointer=/urls"),
                bad("batch unknown field", BATCHES, JSON_TYPE, "{\"urls\": [\"http://e.com/\"], \"name\": \"x\"}", 400, "pointer=/name"),
                bad("batch bad job at index", BATCHES, JSON_TYPE, "{\"jobs\": [{\"url\": \"http://e.com/\"}, {\"url\": \"gopher://e.com/\"}]}", 400, "pointer=/jobs/1/url"),
                bad("batch job not object", BATCHES, JSON_TYPE, "{\"jobs\": [{\"url\": \"http://e.com/\"}, 7]}", 400, "pointer=/jobs/1"),
                bad("batch bad url at index", BATCHES, JSON_TYPE, "{\"urls\": [\"http://e.com/\", \"http://10.0.0.1/\"]}", 400, "pointer=/urls/1"),
                bad("batch url not a string", BATCHES, JSON_TYPE, "{\"urls\": [\"http://e.com/\", {}]}", 400, "pointer=/urls/1"),
                bad("defaults with url", BATCHES, JSON_TYPE, "{\"defaults\": {\"url\": \"http://e.com/\"}, \"urls\": [\"http://e.com/\"]}", 400, "pointer=/defaults/url"),
                bad("defaults out of range", BATCHES, JSON_TYPE, "{\"defaults\": {\"max_attempts\": 99}, \"urls\": [\"http://e.com/\"]}", 400, "pointer=/defaults/max_attempts"),
                bad("repeated key in batch", BATCHES, JSON_TYPE, "{\"jobs\": [{\"url\": \"http://e.com/1\", \"idempotency_key\": \"a\"}, {\"url\": \"http://e.com/2\", \"idempotency_key\": \"a\"}]}", 400, "pointer=/jobs/1/idempotency_key"),
                bad("text batch bad line", BATCHES, TEXT, "http://e.com/1\n\n# comment\nnot a url\nhttp://e.com/2\n", 400, "line=4"),
                bad("text batch blocked line", BATCHES, TEXT, "http://e.com/1\nhttp://192.168.0.1/\n", 400, "line=2"),
                bad("text batch only comments", BATCHES, TEXT, "# nothing\n\n", 400, "line=1"),
                bad("text batch empty", BATCHES, TEXT, "", 400, "line=1"),
                bad("text batch bad parameter", BATCHES + "?max_attempts=lots", TEXT, "http://e.com/\n", 400, "parameter=max_attempts"),
                bad("text batch unknown parameter", BATCHES + "?colour=red", TEXT, "http://e.com/\n", 400, "parameter=colour"),
                bad("text batch url parameter", BATCHES + "?url=http://e.com/", TEXT, "http://e.com/\n", 400, "parameter=url"),
                bad("unreadable query string", BATCHES + "?=5", TEXT, "http://e.com/\n", 400, "parameter="),
                bad("text batch bad header", BATCHES + "?header=nocolon", TEXT, "http://e.com/\n", 400, "parameter=header"),
                bad("batch wrong content type", BATCHES, "application/x-www-form-urlencoded", "a=b", 415, null));
    }

    private static Arguments bad(String name, String path, String type, String body, int status, String where) {
        return Arguments.of(name, path, type, body, status, where);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSubmissions")
    void badSubmissionIsRefusedAndWritesNothing(String name, String path, String type, String body, int status,
            String where) {
        JsonNode problem = post(path, type, body).problem(status);
        if (where != null) {
            String[] parts = where.split("=", 2);
            List<String> named = new ArrayList<>();
            problem.get("errors").forEach(e -> named.add(e.has(parts[0]) ? e.get(parts[0]).asString() : null));
            assertThat(named).as("errors of %s", problem).contains(parts[1]);
        }
        assertThat(writtenRows()).isZero();
    }

    @org.junit.jupiter.api.Test
    void nulCharactersInQueryParametersAndKeyNamesAreRefused() {
        for (String path : List.of("/api/v1/jobs?host=a%00b", "/api/v1/jobs?state=queued%00",
                "/api/v1/jobs?batch_id=1&host=%00", "/api/v1/batches?limit=5%00", "/api/v1/hosts?limit=1%00")) {
            JsonNode problem = get(path).problem(400);
            assertThat(problem.get("errors").get(0).get("parameter").asString()).as(path).isNotBlank();
        }
        JsonNode key = post("/api/v1/keys", JSON_TYPE, "{\"tenant\": \"acme\", \"scopes\": [\"read\"], \"name\": \"n\\u0000\"}")
                .problem(400);
        assertThat(key.get("errors").get(0).get("pointer").asString()).isEqualTo("/name");
        assertThat(sql.sql("SELECT count(*) FROM fetchq.api_key").query(Long.class).single()).isZero();
    }

    @org.junit.jupiter.api.Test
    void everyBadLineOfABatchIsNamed() {
        JsonNode problem = post(BATCHES, TEXT, "http://e.com/\nftp://x/\nhttp://e.com/2\nhttp://127.0.0.1/\n:::\n")
                .problem(400);
        assertThat(problem.get("error_count").asInt()).isEqualTo(3);
        List<Integer> lines = new ArrayList<>();
        problem.get("errors").forEach(e -> lines.add(e.get("line").asInt()));
        assertThat(lines).containsExactly(2, 4, 5);
        assertThat(writtenRows()).isZero();
    }
}
