package io.fetchq.db;

import static java.util.stream.Collectors.counting;
import static java.util.stream.Collectors.groupingBy;
import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.Concurrently;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The claim family of {@link QueueQueries}: {@code claimDue}, {@code claimHosts} (with the walk over
 * hosts that finds them) and {@code claimTrials} take due jobs in claim order (highest priority,
 * then earliest due) within each host's room, and concurrent claimers never share a job.
 */
class ClaimSqlTest extends SqlTestBase {

    private static List<Long> ids(List<ClaimedJob> claimed) {
        return claimed.stream().map(ClaimedJob::jobId).toList();
    }

    private static void dueSecondsAgo(long jobId, int seconds) {
        sql.sql("UPDATE fetchq.queue SET run_at = now() - :s * interval '1 second' WHERE job_id = :id")
                .param("s", seconds).param("id", jobId).update();
        queue.promoteDue(1000);
    }

    private static Map<String, Long> perHost(List<ClaimedJob> claimed) {
        return claimed.stream().collect(groupingBy(ClaimedJob::host, counting()));
    }

    @Test
    void dueJobsAreClaimedHighestPriorityFirstThenEarliestDue() {
        // Due a minute and two minutes ago (as a retry's backoff leaves them; intake makes a past run_at now).
        long lowRecent = aJob("http://a.example/low-recent").submit();
        long lowOld = aJob("http://b.example/low-old").submit();
        long high = aJob("http://c.example/high").priority(9).submit();
        dueSecondsAgo(lowRecent, 60);
        dueSecondsAgo(lowOld, 120);

        List<ClaimedJob> claimed = queue.claimDue(WORKER, 2, 100, 10, Map.of(), LEASE);

        assertThat(ids(claimed)).containsExactlyInAnyOrder(high, lowOld);
        assertThat(claimed).allSatisfy(j -> assertThat(j.attempt()).isEqualTo(1));
        assertThat(result(high).get("state")).isEqualTo("running");
    }

    @Test
    void noHostGetsMoreClaimsThanItsRoom() {
        for (String host : List.of("a.example", "b.example", "c.example")) {
            for (int i = 0; i < 5; i++) {
                aJob("http://" + host + "/" + i).submit();
            }
        }

        List<ClaimedJob> claimed = queue.claimDue(WORKER, 100, 100, 2, Map.of("a.example", 1, "b.example", 0), LEASE);

        assertThat(perHost(claimed)).as("a: its room; b: none; c: the room of a host not named")
                .containsOnly(Map.entry("a.example", 1L), Map.entry("c.example", 2L));
    }

    @Test
    void aJobNotYetDueIsNotClaimed() {
        long later = aJob("http://a.example/later").delay(Duration.ofHours(1)).submit();

        assertThat(claimDue()).isEmpty();
        assertThat(result(later).get("state")).isEqualTo("queued");

        makeDue(later);
        assertThat(ids(claimDue())).containsExactly(later);
    }

    @Test
    void claimHostsTakesOnlyTheNamedHostsFirstJobsUpToEachOnesRoom() {
        List<Long> ofA = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            ofA.add(aJob("http://a.example/" + p).priority(p).submit());
            aJob("http://b.example/" + p).submit();
            aJob("http://c.example/" + p).priority(10).submit();
        }

        List<ClaimedJob> claimed = queue.claimHosts(WORKER, Map.of("a.example", 2, "b.example", 1), LEASE);

        assertThat(perHost(claimed)).containsOnly(Map.entry("a.example", 2L), Map.entry("b.example", 1L));
        assertThat(claimed).filteredOn(j -> j.host().equals("a.example")).extracting(ClaimedJob::jobId)
                .as("a's two highest priorities").containsExactlyInAnyOrder(ofA.get(2), ofA.get(1));
    }

    @Test
    void aWalkOverHostsReachesAHostWaitingBehindABusyHostsBacklog() {
        for (int i = 0; i < 20; i++) {
            aJob("http://busy.example/" + i).priority(1).submit();
        }
        long quiet = aJob("http://quiet.example/").submit();
        Map<String, Integer> busyIsFull = Map.of("busy.example", 0);

        assertThat(queue.claimDue(WORKER, 10, 5, 4, busyIsFull, LEASE))
                .as("the window of the claim order holds only the busy host's jobs").isEmpty();
        QueueQueries.Walk walk = queue.walkHosts("", 10);
        assertThat(walk.hosts()).containsExactly("busy.example", "quiet.example");
        assertThat(walk.next()).as("the walk reached the last host: the next one starts over").isEmpty();
        List<ClaimedJob> claimed = queue.claimHosts(WORKER, Map.of("quiet.example", 4), LEASE);

        assertThat(ids(claimed)).containsExactly(quiet);
        assertThat(count("fetchq.queue WHERE state = 'running'")).isEqualTo(1);
    }

    @Test
    void aWalkGoesOnAfterTheLastHostItVisitedInTheDatabasesOrder() {
        // The cursor is the database's own last value, compared by the database: never a name this
        // process ordered by its own rules (Java's order and the database's collation may differ).
        for (String host : List.of("a-z.example", "az.example", "a.example", "bz.example", "b.example")) {
            aJob("http://" + host + "/").submit();
        }
        List<String> seen = new ArrayList<>();
        String cursor = "";
        for (int walk = 0; walk < 3; walk++) {
            QueueQueries.Walk w = queue.walkHosts(cursor, 2);
            seen.addAll(w.hosts());
            cursor = w.next();
        }
        assertThat(seen).as("every host once, in three walks of two").hasSize(5).doesNotHaveDuplicates();
        assertThat(cursor).as("the last walk reached the end").isEmpty();
    }

    @Test
    void claimTrialsNeverPicksAnExcludedJob() {
        List<Long> flaky = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            flaky.add(aJob("http://flaky.example/" + i).submit());
        }
        aJob("http://other.example/").submit();
        List<Long> excluded = flaky.subList(0, 3);

        List<ClaimedJob> claimed = queue.claimTrials(WORKER, "flaky.example", 5, 5, excluded, LEASE);

        assertThat(ids(claimed)).containsExactlyInAnyOrder(flaky.get(3), flaky.get(4));
    }

    @Test
    void twoConcurrentClaimersTakeDisjointSets() throws Exception {
        Set<Long> submitted = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            submitted.add(aJob("http://h" + i + ".example/").submit());
        }

        List<List<Long>> claims = Concurrently.run(2,
                i -> () -> ids(queue.claimDue("w" + i, 30, 100, 10, Map.of(), LEASE)));

        assertThat(claims.get(0)).doesNotContainAnyElementsOf(claims.get(1));
        Set<Long> all = new HashSet<>(claims.get(0));
        all.addAll(claims.get(1));
        assertThat(all).as("between them, every job").isEqualTo(submitted);
    }
}
