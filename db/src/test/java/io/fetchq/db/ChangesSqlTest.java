package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a URL's fetches leave for the next ones: the claim of a conditional job brings the
 * validators of the URL's last 200, the completion says whether the body changed and keeps it once
 * per tenant, and retention forgets a URL's state and its contents with the jobs that held them.
 */
class ChangesSqlTest extends SqlTestBase {

    private static final String URL = "http://example.com/watched";
    private static final Instant MODIFIED = Instant.parse("2026-11-30T08:00:00Z");

    @Test
    void theClaimOfAConditionalJobBringsTheValidatorsOfItsUrlsLast200() {
        complete(claimNew(aJob(URL).conditional()), 200, "v1", "\"e1\"", MODIFIED);

        assertThat(claimNew(aJob(URL).conditional()).validators())
                .isEqualTo(new ClaimedJob.Validators("\"e1\"", MODIFIED));
        assertThat(claimNew(aJob(URL)).validators()).as("not conditional").isNull();
        assertThat(claimNew(aJob(URL + "?other").conditional()).validators()).as("never fetched").isNull();
    }

    @Test
    void aChangedBodyIsStoredAgainAnUnchangedOneIsNot() {
        long first = complete(claimNew(aJob(URL).conditional()), 200, "v1", "\"e1\"", MODIFIED);
        long same = complete(claimNew(aJob(URL).conditional()), 200, "v1", "\"e1\"", MODIFIED);
        long other = complete(claimNew(aJob(URL).conditional()), 200, "v2", "\"e2\"", MODIFIED.plusSeconds(60));
        long notFound = complete(claimNew(aJob(URL).conditional()), 404, "gone", null, null);

        assertThat(result(first).get("changed")).isNull();
        assertThat(result(same).get("changed")).isEqualTo(false);
        assertThat(result(other).get("changed")).isEqualTo(true);
        assertThat(result(other)).containsEntry("etag", "\"e2\"").containsEntry("not_modified", false);
        assertThat(result(notFound).get("changed")).as("only a 200 or a 304 compares").isNull();
        assertThat(count("fetchq.body_content")).as("v1 and v2; a 404 is not a version").isEqualTo(2);
        assertThat(new String(jobs.bodyOf(same).orElseThrow().body(), StandardCharsets.UTF_8)).isEqualTo("v1");
        assertThat(new String(jobs.bodyOf(notFound).orElseThrow().body(), StandardCharsets.UTF_8)).isEqualTo("gone");
        // The 404 did not become the URL's version: the next 200 compares with the last 200.
        long back = complete(claimNew(aJob(URL).conditional()), 200, "v2", "\"e2\"", null);
        assertThat(result(back).get("changed")).isEqualTo(false);
        // A job that is not conditional tracks nothing: no validators next time, no changed, its body inline.
        long plain = complete(claimNew(aJob(URL)), 200, "v3", "\"e3\"", null);
        assertThat(result(plain).get("changed")).isNull();
        assertThat(result(plain)).containsEntry("etag", "\"e3\"");
        assertThat(claimNew(aJob(URL).conditional()).validators()).isEqualTo(new ClaimedJob.Validators("\"e2\"", null));
        assertThat(count("fetchq.body_content")).isEqualTo(2);
    }

    @Test
    void a304KeepsTheEarlierVersionWithItsBodyHashAndExtractedFields() {
        long first = complete(claimNew(aJob(URL).conditional()), 200, "v1", "\"e1\"", MODIFIED);
        ClaimedJob conditional = claimNew(aJob(URL).conditional());
        long kept = complete(conditional, 304, "", null, null);

        Map<String, Object> row = result(kept);
        assertThat(row).containsEntry("status_code", 304).containsEntry("not_modified", true)
                .containsEntry("changed", false).containsEntry("body_sha256", sha("v1"))
                .containsEntry("body_bytes", 2L).containsEntry("title", "title of v1")
                .containsEntry("etag", "\"e1\"").containsEntry("content_type", "text/html");
        assertThat(((java.sql.Timestamp) row.get("last_modified")).toInstant()).isEqualTo(MODIFIED);
        assertThat(new String(jobs.bodyOf(kept).orElseThrow().body(), StandardCharsets.UTF_8)).isEqualTo("v1");
        assertThat(count("fetchq.body_content")).isEqualTo(1);
        // The 304's job now holds the version: a later 304 finds it there.
        assertThat(sql.sql("SELECT job_id FROM fetchq.url_state").query(Long.class).single()).isEqualTo(kept);
        long again = complete(claimNew(aJob(URL).conditional()), 304, "", "\"e1\"", null);
        assertThat(result(again)).containsEntry("title", "title of v1").containsEntry("body_sha256", sha("v1"));
        assertThat(first).isNotEqualTo(kept);
    }

    @Test
    void retentionForgetsAUrlWithTheJobHoldingItsVersionAndDeletesContentsNoJobPointsAt() {
        long first = complete(claimNew(aJob(URL).conditional()), 200, "v1", "\"e1\"", MODIFIED);
        long kept = complete(claimNew(aJob(URL).conditional()), 304, "", null, null);
        long elsewhere = complete(claimNew(aJob("http://example.com/other").conditional()), 200, "v9", null, null);
        age(first, Duration.ofDays(40));

        assertThat(retention.deleteFinishedBefore(Instant.now().minus(Duration.ofDays(30)), 100)).isEqualTo(1);
        assertThat(count("fetchq.url_state")).as("the 304 holds the version now").isEqualTo(2);
        RetentionQueries.Contents pass = retention.deleteUnusedContents(100, Duration.ofSeconds(5));
        assertThat(pass).isEqualTo(new RetentionQueries.Contents(1, 0, true));
        assertThat(new String(jobs.bodyOf(kept).orElseThrow().body(), StandardCharsets.UTF_8)).isEqualTo("v1");

        age(kept, Duration.ofDays(40));
        assertThat(retention.deleteFinishedBefore(Instant.now().minus(Duration.ofDays(30)), 100)).isEqualTo(1);
        assertThat(sql.sql("SELECT job_id FROM fetchq.url_state").query(Long.class).list()).containsExactly(elsewhere);
        assertThat(retention.deleteUnusedContents(100, Duration.ofSeconds(5)))
                .isEqualTo(new RetentionQueries.Contents(1, 1, true));
        assertThat(count("fetchq.body_content")).isEqualTo(1);
        assertThat(count("fetchq.body_release")).isZero();
        // Forgotten: the next conditional job of the URL asks for the whole page.
        assertThat(claimNew(aJob(URL).conditional()).validators()).isNull();
    }

    @Test
    void contentsAreNotDeletedWhileACompletionMayStillPointAtThem() throws Exception {
        long first = complete(claimNew(aJob(URL).conditional()), 200, "v1", null, null);
        age(first, Duration.ofDays(40));
        retention.deleteFinishedBefore(Instant.now().minus(Duration.ofDays(30)), 100);
        try (Connection completing = dataSource.getConnection()) {
            // A completion statement under way: it holds the content table as a writer until it commits.
            completing.setAutoCommit(false);
            try (Statement s = completing.createStatement()) {
                s.execute("INSERT INTO fetchq.body_content (tenant, sha256, body) VALUES ('default', '\\x00', '\\x00')");
            }
            assertThat(retention.deleteUnusedContents(100, Duration.ofMillis(200)))
                    .isEqualTo(new RetentionQueries.Contents(0, 0, false));
            completing.rollback();
        }
        assertThat(count("fetchq.body_release")).as("left for the next pass").isEqualTo(1);
        assertThat(retention.deleteUnusedContents(100, Duration.ofSeconds(5)))
                .isEqualTo(new RetentionQueries.Contents(1, 1, true));
    }

    /** Submits the job and claims it (it must be the only due job). */
    private static ClaimedJob claimNew(io.fetchq.db.testing.JobBuilder job) {
        long id = job.submit();
        List<ClaimedJob> claimed = claimDue();
        assertThat(claimed).extracting(ClaimedJob::jobId).containsExactly(id);
        return claimed.getFirst();
    }

    /** Completes the claim with a response of {@code status} whose body is {@code body}, titled after it. */
    private static long complete(ClaimedJob job, int status, String body, String etag, Instant lastModified) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        Payload payload = new Payload("text/html", (long) bytes.length, false, job.url(), sha(body),
                body.isEmpty() ? null : "title of " + body, "[]", bytes, etag, lastModified);
        assertThat(queue.completeMany(List.of(new Completion.Completed(job.claim(),
                record(status, null, null, 1, "127.0.0.1"), payload)), WORKER)).containsExactly(job.jobId());
        return job.jobId();
    }

    private static void age(long jobId, Duration ago) {
        sql.sql("UPDATE fetchq.job SET finished_at = now() - :ms * interval '1 millisecond' WHERE id = :id")
                .param("ms", ago.toMillis()).param("id", jobId).update();
    }

    private static String sha(String body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
