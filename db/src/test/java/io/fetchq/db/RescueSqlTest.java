package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The rescue family of {@link QueueQueries}: {@code rescueExpired} takes back jobs whose worker
 * stopped renewing its lease, and {@code extendLeases} renews the leases a worker still holds.
 */
class RescueSqlTest extends SqlTestBase {

    @Test
    void aJobWhoseLeaseExpiredGoesBackToTheQueueWithTheLostAttemptRecorded() {
        long id = aJob("http://example.com/lost").maxAttempts(3).submit();
        claimOne();
        expireLease(id);

        assertThat(queue.rescueExpired(10)).isEqualTo(new QueueQueries.Rescued(1, 0));

        assertThat(result(id)).containsEntry("state", "queued").containsEntry("attempts", 1);
        assertThat(queueRow(id).orElseThrow()).containsEntry("lease_token", null).containsEntry("worker_id", null);
        assertThat(attempts(id)).hasSize(1);
        assertThat(attempts(id).getFirst()).containsEntry("attempt", 1).containsEntry("worker_id", WORKER)
                .containsEntry("error_kind", "lease_expired")
                .containsEntry("error_message", "worker w1 stopped renewing its lease");
        assertThat(claimOne().attempt()).as("claimed again, for its next attempt").isEqualTo(2);
    }

    @Test
    void aJobWhoseLeaseExpiredOnItsLastAttemptEndsFailed() {
        long id = aJob("http://example.com/last").maxAttempts(1).submit();
        claimOne();
        expireLease(id);

        assertThat(queue.rescueExpired(10)).isEqualTo(new QueueQueries.Rescued(0, 1));

        assertThat(result(id)).containsEntry("state", "failed").containsEntry("attempts", 1)
                .containsEntry("error_kind", "lease_expired");
        assertThat(result(id).get("finished_at")).isNotNull();
        assertThat(queueRow(id)).isEmpty();
        assertThat(attempts(id)).extracting(a -> a.get("error_kind")).containsExactly("lease_expired");
    }

    @Test
    void aJobWhoseLeaseExpiredAfterACancelRequestEndsCancelled() {
        long id = aJob("http://example.com/cancelled").submit();
        claimOne();
        jobs.cancel(id, null);
        expireLease(id);

        assertThat(queue.rescueExpired(10)).isEqualTo(new QueueQueries.Rescued(0, 1));

        assertThat(result(id)).containsEntry("state", "cancelled").containsEntry("error_kind", "cancelled");
    }

    @Test
    void aLiveLeaseIsUntouched() {
        long id = aJob("http://example.com/alive").submit();
        ClaimedJob claimed = claimOne();

        assertThat(queue.rescueExpired(10)).isEqualTo(new QueueQueries.Rescued(0, 0));

        assertThat(result(id)).containsEntry("state", "running");
        assertThat(queueRow(id).orElseThrow()).containsEntry("lease_token", claimed.claim().leaseToken());
        assertThat(attempts(id)).isEmpty();
    }

    @Test
    void extendLeasesExtendsOnlyClaimsWhoseTokenAndJobMatch() {
        long first = aJob("http://a.example/").priority(1).submit();
        long second = aJob("http://b.example/").submit();
        Claim a = queue.claimDue(WORKER, 1, 10, 10, Map.of(), LEASE).getFirst().claim();
        Claim b = queue.claimDue(WORKER, 1, 10, 10, Map.of(), LEASE).getFirst().claim();
        assertThat(List.of(a.jobId(), b.jobId())).containsExactly(first, second);

        Claim otherToken = new Claim(second, a.leaseToken(), b.attempt());
        Claim noClaim = new Claim(second, UUID.randomUUID(), b.attempt());
        List<Claim> lost = queue.extendLeases(List.of(a, otherToken, noClaim), Duration.ofHours(1));

        assertThat(lost).containsExactly(otherToken, noClaim);
        assertThat(leaseLongerThanHalfAnHour(first)).isTrue();
        assertThat(leaseLongerThanHalfAnHour(second)).as("another claim's token, a token of no claim").isFalse();
    }

    @Test
    void extendLeasesRenewsEveryJobOfOneClaimStatement() {
        for (int i = 0; i < 40; i++) {
            aJob("http://host" + i + ".example/").submit();
        }
        List<Claim> claims = queue.claimDue(WORKER, 40, 100, 10, Map.of(), LEASE).stream().map(ClaimedJob::claim).toList();
        assertThat(claims).hasSize(40);

        assertThat(queue.extendLeases(claims, Duration.ofHours(1))).isEmpty();
    }

    private static boolean leaseLongerThanHalfAnHour(long jobId) {
        return sql.sql("SELECT lease_expires_at > now() + interval '30 minutes' FROM fetchq.queue WHERE job_id = :id")
                .param("id", jobId).query(Boolean.class).single();
    }
}
