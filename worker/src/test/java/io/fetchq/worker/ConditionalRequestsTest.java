package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Conditional GETs and changes against a loopback server that honours validators and counts the
 * answers that carried the page: a page that did not change is sent once, its body stored once,
 * and every job says whether the body changed.
 */
class ConditionalRequestsTest extends WorkerTestBase {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aConditionalJobOfAnUnchangedPageGetsA304AndKeepsTheEarlierBody() {
        startWorker(settings());
        server.version("a", html("A", "first"));
        String url = server.url("/versioned/a");

        Map<String, Object> first = fetch(url, true);
        assertThat(first.get("status_code")).isEqualTo(200);
        assertThat(first.get("etag")).isEqualTo(server.etag("a"));
        assertThat(first.get("last_modified")).isNotNull();
        assertThat(first.get("not_modified")).isEqualTo(false);
        assertThat(first.get("changed")).as("nothing to compare the first fetch with").isNull();
        assertThat(server.validatorsSent("/versioned/a")).isEmpty();

        Map<String, Object> second = fetch(url, true);
        assertThat(server.validatorsSent("/versioned/a")).isEqualTo("If-None-Match: " + server.etag("a") + "\n");
        assertThat(second.get("status_code")).isEqualTo(304);
        assertThat(second.get("state")).isEqualTo("completed");
        assertThat(second.get("not_modified")).isEqualTo(true);
        assertThat(second.get("changed")).isEqualTo(false);
        assertThat(second.get("body_sha256")).isEqualTo(first.get("body_sha256"));
        assertThat(second.get("body_bytes")).isEqualTo(first.get("body_bytes"));
        assertThat(second.get("title")).isEqualTo("A first");
        assertThat(second.get("etag")).isEqualTo(first.get("etag"));
        assertThat(body(id(second))).isEqualTo(html("A", "first"));

        // A third check of the unchanged page: still one full answer, the body kept from the first.
        Map<String, Object> third = fetch(url, true);
        assertThat(third.get("not_modified")).isEqualTo(true);
        assertThat(body(id(third))).isEqualTo(html("A", "first"));
        assertThat(server.fullResponses("/versioned/a")).isEqualTo(1);
        assertThat(server.hits("/versioned/a")).isEqualTo(3);

        server.version("a", html("A", "second"));
        Map<String, Object> changed = fetch(url, true);
        assertThat(changed.get("status_code")).isEqualTo(200);
        assertThat(changed.get("changed")).isEqualTo(true);
        assertThat(changed.get("not_modified")).isEqualTo(false);
        assertThat(changed.get("etag")).isEqualTo(server.etag("a"));
        assertThat(changed.get("body_sha256")).isNotEqualTo(first.get("body_sha256"));
        assertThat(changed.get("title")).isEqualTo("A second");

        Map<String, Object> after = fetch(url, true);
        assertThat(after.get("not_modified")).isEqualTo(true);
        assertThat(after.get("body_sha256")).isEqualTo(changed.get("body_sha256"));
        assertThat(body(id(after))).isEqualTo(html("A", "second"));
        assertThat(server.fullResponses("/versioned/a")).isEqualTo(2);
        // Five jobs with a body each, two contents.
        assertThat(count("SELECT count(*) FROM fetchq.job_bodies")).isEqualTo(5);
        assertThat(count("SELECT count(*) FROM fetchq.body_content")).isEqualTo(2);
    }

    @Test
    void withoutAnEtagTheLastModifiedIsSentAsIfModifiedSince() {
        startWorker(settings());
        server.version("b", html("B", "one"));
        String url = server.url("/dated/b");

        Map<String, Object> first = fetch(url, true);
        assertThat(first.get("etag")).isNull();
        Map<String, Object> second = fetch(url, true);

        assertThat(server.validatorsSent("/dated/b")).isEqualTo("If-Modified-Since: Thu, 01 Jan 2026 01:00:00 GMT\n");
        assertThat(second.get("status_code")).isEqualTo(304);
        assertThat(second.get("not_modified")).isEqualTo(true);
        assertThat(second.get("last_modified")).isEqualTo(first.get("last_modified"));
        assertThat(body(id(second))).isEqualTo(html("B", "one"));
        assertThat(server.fullResponses("/dated/b")).isEqualTo(1);
    }

    @Test
    void jobsNotConditionalNeitherSendValidatorsNorKeepTheUrlsVersion() {
        startWorker(settings());
        server.version("c", html("C", "one"));
        String url = server.url("/versioned/c");

        Map<String, Object> first = fetch(url, false);
        Map<String, Object> second = fetch(url, false);
        assertThat(server.validatorsSent("/versioned/c")).isEmpty();
        assertThat(first.get("changed")).isNull();
        assertThat(second.get("changed")).as("not tracked").isNull();
        assertThat(second.get("etag")).as("the response's ETag is still shown").isEqualTo(server.etag("c"));
        assertThat(body(id(second))).isEqualTo(html("C", "one"));
        assertThat(count("SELECT count(*) FROM fetchq.url_state")).isZero();

        // The first conditional job of the URL has no version to send: it fetches the page whole.
        Map<String, Object> watched = fetch(url, true);
        assertThat(server.validatorsSent("/versioned/c")).isEmpty();
        assertThat(watched.get("changed")).isNull();
        assertThat(fetch(url, true).get("not_modified")).isEqualTo(true);
        assertThat(server.fullResponses("/versioned/c")).isEqualTo(3);
    }

    @Test
    void aUrlsStateIsItsTenantsOwn() {
        startWorker(settings());
        server.version("d", html("D", "one"));
        String url = server.url("/versioned/d");
        fetch(url, true);

        long other = jobs.insertOne("other", aJob(url).conditional().build()).jobId();
        Map<String, Object> theirs = awaitFinal(other, WAIT);

        assertThat(theirs.get("status_code")).as("no validators from another tenant's fetch").isEqualTo(200);
        assertThat(theirs.get("changed")).isNull();
        assertThat(server.fullResponses("/versioned/d")).isEqualTo(2);
        // The same content in two tenants: stored once for each.
        assertThat(count("SELECT count(*) FROM fetchq.body_content")).isEqualTo(2);
    }

    @Test
    void aJobsOwnValidatorHeaderIsSentAsItIs() {
        startWorker(settings());
        server.version("e", html("E", "one"));
        String url = server.url("/versioned/e");
        fetch(url, true);

        long id = aJob(url).conditional().headers("{\"If-None-Match\": \"\\\"mine\\\"\"}").submit();
        Map<String, Object> job = awaitFinal(id, WAIT);

        assertThat(server.validatorsSent("/versioned/e")).isEqualTo("If-None-Match: \"mine\"\n");
        assertThat(job.get("status_code")).isEqualTo(200);
        assertThat(job.get("changed")).isEqualTo(false);
    }

    private static Map<String, Object> fetch(String url, boolean conditional) {
        long id = conditional ? aJob(url).conditional().submit() : aJob(url).submit();
        Map<String, Object> job = awaitFinal(id, WAIT);
        assertState(job, "completed");
        return job;
    }

    private static long id(Map<String, Object> job) {
        return ((Number) job.get("job_id")).longValue();
    }

    private static String body(long jobId) {
        return sql.sql("SELECT convert_from(body, 'UTF8') FROM fetchq.job_bodies WHERE job_id = :id").param("id", jobId)
                .query(String.class).single();
    }

    private static long count(String query) {
        return sql.sql(query).query(Long.class).single();
    }

    private static String html(String page, String version) {
        return "<!doctype html><html><head><title>" + page + " " + version + "</title></head><body>" + version
                + "</body></html>";
    }
}
