package io.fetchq.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's curl examples and SQL queries, run as written against a live API and database. */
class ReadmeExamplesTest extends ApiTestBase {

    private static final Pattern BLOCK = Pattern.compile("```(bash|sql)\\n(.*?)```", Pattern.DOTALL);

    private static List<String> blocks(String language) throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        List<String> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        while (m.find()) {
            if (m.group(1).equals(language)) {
                blocks.add(m.group(2));
            }
        }
        return blocks;
    }

    @Test
    void curlExamplesAndSqlQueriesWork() throws Exception {
        sql.sql("TRUNCATE fetchq.queue, fetchq.body, fetchq.body_content, fetchq.body_release, fetchq.url_state, fetchq.attempt, fetchq.job, fetchq.batch, fetchq.api_key, fetchq.schedule, fetchq.schedule_job, fetchq.webhook, fetchq.event, fetchq.webhook_delivery, fetchq.webhook_attempt, fetchq.crawl, fetchq.crawl_host, fetchq.crawl_frontier, fetchq.crawl_link RESTART IDENTITY")
                .update();
        // The examples that manage keys use an admin key, made as the README says (key 1).
        String adminKey = sql.sql("SELECT key FROM fetchq.create_api_key('default', '{admin}', 'first admin')")
                .query(String.class).single();
        List<String> curls = blocks("bash").stream().filter(b -> b.contains("localhost:8080/api/")).toList();
        assertThat(curls).hasSizeGreaterThanOrEqualTo(4);
        for (String block : curls) {
            // Aim at this test's server, and make curl fail on any 4xx/5xx answer.
            String script = block.replace("localhost:8080", "127.0.0.1:" + port).replace("curl -s ", "curl -sSf ");
            ProcessBuilder builder = new ProcessBuilder("bash", "-e", "-o", "pipefail", "-c", script)
                    .redirectErrorStream(true);
            builder.environment().put("FETCHQ_API_KEY", adminKey);
            Process process = builder.start();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.exitValue()).as("README example:\n%s\noutput:\n%s", block, output).isZero();
        }
        // Three submitted, one run of the README's schedule made by "run", one crawl's.
        assertThat(sql.sql("SELECT count(*) FROM fetchq.batch").query(Long.class).single()).isEqualTo(5);
        assertThat(sql.sql("SELECT state FROM fetchq.crawls WHERE crawl_id = 1").query(String.class).single())
                .as("the README's crawl, cancelled").isEqualTo("cancelled");
        assertThat(sql.sql("SELECT every || ' ' || paused FROM fetchq.schedules WHERE schedule_id = 1")
                .query(String.class).single()).as("the README's schedule, changed and paused").isEqualTo("PT10M true");
        assertThat(sql.sql("SELECT tenant || ' ' || (revoked_at IS NOT NULL) FROM fetchq.api_keys WHERE id = 2")
                .query(String.class).single()).as("the README's key, created and revoked").isEqualTo("acme true");

        // Give the SQL examples finished jobs and attempts to look at.
        sql.sql("""
                INSERT INTO fetchq.attempt (job_id, attempt, worker_id, started_at, finished_at, status_code, ttfb_ms, total_ms)
                SELECT job_id, 1, 'w1', now(), now(), 200, 10 + job_id::int, 20 + job_id::int FROM fetchq.queue""").update();
        sql.sql("""
                WITH q AS (DELETE FROM fetchq.queue RETURNING job_id)
                UPDATE fetchq.job j SET state = CASE WHEN j.id % 2 = 0 THEN 'completed' ELSE 'failed' END,
                       status_code = CASE WHEN j.id % 2 = 0 THEN 200 END,
                       error_kind = CASE WHEN j.id % 2 = 1 THEN 'timeout' END,
                       attempts = 1, finished_at = now()
                FROM q WHERE j.id = q.job_id""").update();
        sql.sql("SELECT fetchq.recount_jobs()").query().listOfRows();
        // A second crawl of a page of batch 1, whose body changed.
        sql.sql("UPDATE fetchq.job SET body_sha256 = md5(id::text), changed = (state = 'completed')").update();
        sql.sql("""
                UPDATE fetchq.job SET url = (SELECT url FROM fetchq.job WHERE batch_id = 1 ORDER BY id LIMIT 1)
                WHERE id = (SELECT min(id) FROM fetchq.job WHERE batch_id = 2)""").update();

        // The README's crawl: its seed links to a page (of batch 1) that answered 404.
        sql.sql("""
                INSERT INTO fetchq.crawl_link (crawl_id, from_job_id, to_url, to_job_id)
                SELECT 1, (SELECT min(id) FROM fetchq.job WHERE crawl_id = 1), j.url, j.id
                FROM fetchq.job j WHERE j.id = (SELECT min(id) FROM fetchq.job WHERE batch_id = 1)""").update();
        sql.sql("UPDATE fetchq.job SET status_code = 404 WHERE id = (SELECT min(id) FROM fetchq.job WHERE batch_id = 1)")
                .update();

        List<String> queries = blocks("sql");
        assertThat(queries).hasSizeGreaterThanOrEqualTo(3);
        for (String query : queries) {
            List<Map<String, Object>> rows = sql.sql(query.strip().replaceAll(";$", "")).query().listOfRows();
            assertThat(rows).as("README query:\n%s", query).isNotEmpty();
        }
    }
}
