package io.fetchq.worker.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BodyBudgetTest {

    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    private Future<BodyBudget.Reservation> reserveLater(BodyBudget budget, long bytes, List<Long> order) {
        return threads.submit(() -> {
            BodyBudget.Reservation r = budget.reserve(bytes);
            order.add(bytes);
            return r;
        });
    }

    @Test
    void aReservationWaitsUntilEnoughIsGivenBack() throws Exception {
        BodyBudget budget = new BodyBudget(100);
        BodyBudget.Reservation first = budget.reserve(70);
        List<Long> order = new CopyOnWriteArrayList<>();
        Future<BodyBudget.Reservation> second = reserveLater(budget, 50, order);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> budget.waits() == 0 && !second.isDone()
                && threadsWaiting(budget));

        first.shrinkTo(40);
        assertThat(second.get().bytes()).isEqualTo(50);
        assertThat(budget.inUse()).isEqualTo(90);
        assertThat(budget.waits()).isEqualTo(1);

        first.release();
        first.release();
        second.get().release();
        assertThat(budget.inUse()).as("each byte given back once").isZero();
    }

    @Test
    void waitersAreServedInTurnSoThatALargeBodyIsNotPassedOverBySmallOnes() throws Exception {
        BodyBudget budget = new BodyBudget(100);
        BodyBudget.Reservation held = budget.reserve(60);
        List<Long> order = new CopyOnWriteArrayList<>();
        Future<BodyBudget.Reservation> large = reserveLater(budget, 90, order);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> threadsWaiting(budget));
        // 40 are free: enough for the small one, but the large one asked first.
        Future<BodyBudget.Reservation> small = reserveLater(budget, 30, order);
        Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5))
                .until(() -> !small.isDone() && !large.isDone());

        held.release();
        large.get().release();
        small.get().release();
        assertThat(order).containsExactly(90L, 30L);
    }

    @Test
    void aBodyLargerThanTheWholeBudgetWaitsForAllOfIt() throws Exception {
        BodyBudget budget = new BodyBudget(100);
        BodyBudget.Reservation small = budget.reserve(1);
        CompletableFuture<BodyBudget.Reservation> huge = CompletableFuture.supplyAsync(() -> {
            try {
                return budget.reserve(1_000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, threads);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> threadsWaiting(budget));
        small.release();
        assertThat(huge.get().bytes()).isEqualTo(100);
    }

    @Test
    void aFetchStoppedWhileWaitingReservesNothingAndLetsTheNextOneGo() throws Exception {
        BodyBudget budget = new BodyBudget(100);
        BodyBudget.Reservation held = budget.reserve(100);
        List<Long> order = new CopyOnWriteArrayList<>();
        Future<BodyBudget.Reservation> stopped = reserveLater(budget, 80, order);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> threadsWaiting(budget));
        Future<BodyBudget.Reservation> next = reserveLater(budget, 20, order);
        stopped.cancel(true);

        held.shrinkTo(80);
        assertThat(next.get().bytes()).isEqualTo(20);
        assertThat(budget.inUse()).isEqualTo(100);
    }

    @Test
    void aBudgetMustBePositive() {
        assertThatThrownBy(() -> new BodyBudget(0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static boolean threadsWaiting(BodyBudget budget) {
        return budget.queued() > 0;
    }
}
