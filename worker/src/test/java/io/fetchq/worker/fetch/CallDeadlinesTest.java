package io.fetchq.worker.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.fetchq.db.Claim;
import io.fetchq.db.ClaimedJob;
import io.fetchq.db.testing.ChaosServer;
import io.fetchq.url.FetchProperties;
import io.fetchq.url.UrlPolicy;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** The timeouts' watchdog survives its own failures, and OkHttp's call timeout stands behind it. */
class CallDeadlinesTest {

    /** A call whose {@code cancel} runs {@code onCancel}; nothing else is used by the watchdog. */
    private static Call call(Runnable onCancel) {
        return (Call) Proxy.newProxyInstance(Call.class.getClassLoader(), new Class<?>[] {Call.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "cancel" -> {
                        onCancel.run();
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> null;
                });
    }

    @Test
    void aCallThatThrowsAnErrorWhenCancelledDoesNotStopTheWatchdog() {
        AtomicInteger failures = new AtomicInteger();
        try (CallDeadlines deadlines = new CallDeadlines("test", failures::incrementAndGet)) {
            long now = System.nanoTime();
            deadlines.watch(call(() -> {
                throw new StackOverflowError("cancel blew up");
            }), now, Long.MAX_VALUE);
            AtomicBoolean cancelled = new AtomicBoolean();
            deadlines.watch(call(() -> cancelled.set(true)), now + TimeUnit.MILLISECONDS.toNanos(200), Long.MAX_VALUE);

            Awaitility.await("the later call cancelled").atMost(Duration.ofSeconds(5)).untilTrue(cancelled);
            assertThat(failures).hasValue(1);
        }
    }

    @Test
    void okHttpsCallTimeoutEndsACallShouldTheWatchdogBeGone() throws Exception {
        Map<String, String> settings = new HashMap<>();
        settings.put("fetchq.fetch.allowed-networks", "127.0.0.0/8");
        FetchProperties fetch = new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("fetchq.fetch", FetchProperties.class);
        try (ChaosServer server = new ChaosServer();
                HttpFetcher fetcher = new HttpFetcher(new UrlPolicy(false, fetch.allowedNetworks()), fetch, 4,
                        host -> List.of(InetAddress.getLoopbackAddress()), Clock.systemUTC())) {
            fetcher.deadlines.close();
            ClaimedJob job = new ClaimedJob(new Claim(1, UUID.randomUUID(), 1), 1, 1, server.url("/hang/forever"),
                    "127.0.0.1", "GET", null, null, 500, 1000, true, true, List.of(), null, false, null);

            FetchOutcome outcome = assertTimeoutPreemptively(Duration.ofSeconds(20),
                    () -> fetcher.fetch(job, new FetchCancellation()));

            assertThat(outcome).isInstanceOf(FetchOutcome.Failure.class);
            assertThat(((FetchOutcome.Failure) outcome).kind()).isEqualTo(ErrorKind.TIMEOUT);
            assertThat(((FetchOutcome.Failure) outcome).message()).isEqualTo("timed out after 500 ms");
        }
    }
}
