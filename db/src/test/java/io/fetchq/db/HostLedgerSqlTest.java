package io.fetchq.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.HostLedger.Breaker;
import io.fetchq.db.HostLedger.Share;
import io.fetchq.db.HostLedger.ShareRequest;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The host ledger's invariants: the slots of a host's live shares never add up to more than its
 * limit, a waiting worker gets a fair part, an expired share's slots come back, a pause and an open
 * breaker grant nothing, one worker makes a half-open breaker's trials, and the rate's instants are
 * handed out without overlap.
 */
class HostLedgerSqlTest extends SqlTestBase {

    private static final String HOST = "busy.example";
    private static final HostLedger ledger = new HostLedger(jdbc);

    private static Share take(String worker, int want, int held, int inUse) {
        return take(worker, want, held, inUse, LEASE);
    }

    private static Share take(String worker, int want, int held, int inUse, Duration lease) {
        return ledger.takeShares(worker, List.of(new ShareRequest(HOST, want, 8, 0, held, inUse)), lease).getFirst();
    }

    private static long liveSlots() {
        return sql.sql("SELECT COALESCE(sum(slots), 0) FROM fetchq.host_share WHERE host = :h AND expires_at > now()")
                .param("h", HOST).query(Long.class).single();
    }

    @Test
    void aWaitingWorkerGetsAFairPartOnceTheHolderHasShrunk() {
        assertThat(take("w1", 8, 0, 0).granted()).isEqualTo(8);
        Share waiting = take("w2", 8, 0, 0);
        assertThat(waiting.granted()).as("all 8 slots are w1's").isZero();

        Share holder = take("w1", 8, 8, 8);
        assertThat(holder.contended()).isTrue();
        assertThat(holder.granted()).as("a fair part while w2 waits").isEqualTo(4);
        assertThat(liveSlots()).as("w1's 8 fetches in flight stay covered").isEqualTo(8);
        assertThat(take("w2", 8, 0, 0).granted()).as("nothing free until w1's fetches end").isZero();

        take("w1", 8, 4, 4);
        assertThat(take("w2", 8, 0, 0).granted()).isEqualTo(4);
        assertThat(liveSlots()).isEqualTo(8);
    }

    @Test
    void aKilledWorkersShareComesBackWhenItsLeaseExpires() {
        assertThat(take("killed", 8, 0, 0, Duration.ofMillis(200)).granted()).isEqualTo(8);
        assertThat(take("w2", 8, 0, 0).granted()).isZero();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> take("w2", 8, 0, 0).granted() == 8);
    }

    @Test
    void handingBackFreesTheSlotsAtOnce() {
        take("w1", 8, 0, 0);
        take("w1", 0, 0, 0);
        assertThat(sql.sql("SELECT count(*) FROM fetchq.host_share").query(Long.class).single()).isZero();
        assertThat(take("w2", 8, 0, 0).granted()).isEqualTo(8);
    }

    @Test
    void anAdminsLimitAndPauseHoldForEveryWorker() {
        ledger.configure(HOST, new HostLedger.Settings(true, 3, false, null, false, null));
        assertThat(take("w1", 8, 0, 0).granted()).isEqualTo(3);
        assertThat(take("w1", 8, 3, 0).maxInFlight()).isEqualTo(3);

        ledger.configure(HOST, new HostLedger.Settings(false, null, false, null, true,
                OffsetDateTime.now().plusHours(1)));
        Share paused = take("w2", 8, 0, 0);
        assertThat(paused.granted()).isZero();
        assertThat(paused.pausedMs()).isBetween(3_500_000L, 3_600_000L);

        ledger.configure(HOST, new HostLedger.Settings(true, null, false, null, true, null));
        assertThat(ledger.view(HOST).pausedUntil()).isNull();
        assertThat(take("w2", 8, 0, 0).granted()).as("a fair part of the default 8: w1 wants more than its 3 too")
                .isEqualTo(4);
    }

    @Test
    void aRetryAfterPauseOnlyEverGrowsAndStopsGrants() {
        ledger.pause(HOST, 60_000);
        ledger.pause(HOST, 1_000);
        Share share = take("w1", 8, 0, 0);
        assertThat(share.granted()).isZero();
        assertThat(share.pausedMs()).isGreaterThan(50_000);
    }

    @Test
    void oneWorkerMakesTheTrialsOfAnOpenBreakerWhoseTimeIsUp() {
        ledger.open(HOST, "w1", Duration.ofHours(1));
        Share open = take("w2", 8, 0, 0);
        assertThat(open.breaker()).isEqualTo(Breaker.OPEN);
        assertThat(open.granted()).isZero();
        assertThat(open.openMs()).isGreaterThan(3_500_000L);

        sql.sql("UPDATE fetchq.host SET open_until = now() - interval '1 second'").update();
        Share trials = take("w2", 8, 0, 0);
        assertThat(trials.breaker()).isEqualTo(Breaker.HALF_OPEN);
        assertThat(trials.trials()).isTrue();
        assertThat(trials.granted()).isEqualTo(8);
        Share other = take("w3", 8, 0, 0);
        assertThat(other.trials()).isFalse();
        assertThat(other.granted()).as("held back while w2 makes the trials").isZero();

        ledger.close(HOST, "w3");
        assertThat(take("w3", 8, 0, 0).breaker()).as("only the trial worker closes it").isEqualTo(Breaker.HALF_OPEN);
        ledger.close(HOST, "w2");
        assertThat(take("w3", 8, 0, 0).breaker()).isEqualTo(Breaker.CLOSED);
    }

    @Test
    void aTrialWorkerThatDiedPassesTheTrialsOn() {
        ledger.open(HOST, "w1", Duration.ofHours(1));
        sql.sql("UPDATE fetchq.host SET open_until = now() - interval '1 second'").update();
        assertThat(take("dead", 8, 0, 0, Duration.ofMillis(100)).trials()).isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> take("w2", 8, 0, 0).trials());
    }

    @Test
    void rateInstantsAreHandedOutOneAfterAnother() {
        HostLedger.RateSlice first = ledger.takeRate(HOST, 10, 5);
        HostLedger.RateSlice second = ledger.takeRate(HOST, 10, 5);
        assertThat(first.intervalMs()).isEqualTo(100.0);
        assertThat(first.firstMs()).isBetween(0.0, 1.0);
        assertThat(second.firstMs()).as("after the first slice's five instants").isBetween(400.0, 501.0);
        assertThat(ledger.takeRate("other.example", 0, 5).unlimited()).isTrue();
    }

    @Test
    void concurrentWorkersNeverHoldMoreThanTheLimit() throws Exception {
        int workers = 6;
        List<Future<?>> runs = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(workers)) {
            for (int w = 0; w < workers; w++) {
                String id = "w" + w;
                runs.add(pool.submit(() -> {
                    int held = 0;
                    for (int i = 0; i < 150; i++) {
                        int want = ThreadLocalRandom.current().nextInt(9);
                        Share s = take(id, want, held, Math.min(held, ThreadLocalRandom.current().nextInt(9)));
                        held = s.granted();
                        long live = liveSlots();
                        assertThat(live).as("live slots after %s's take", id).isLessThanOrEqualTo(8);
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get();
            }
        }
    }
}
