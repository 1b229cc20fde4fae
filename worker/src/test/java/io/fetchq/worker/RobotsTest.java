package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.HostLedger;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.fetch.HttpFetcher;
import io.fetchq.worker.robots.Robots;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * robots.txt as RFC 9309 has it, against a loopback server that answers each host's robots.txt as a
 * test sets it, through the real fetcher and the fleet's copies in PostgreSQL; time is a clock the
 * test moves.
 */
class RobotsTest extends WorkerTestBase {

    /** A clock the test moves by hand. */
    static final class MovingClock extends Clock {
        private volatile Instant now = Instant.parse("2026-12-01T00:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    private final MovingClock clock = new MovingClock();
    private final List<HttpFetcher> fetchers = new ArrayList<>();

    @AfterEach
    void closeFetchers() {
        fetchers.forEach(HttpFetcher::close);
    }

    /** One worker's view of robots.txt, as {@code settings} configure it. */
    private Robots robots(String workerId, String... settings) {
        var fetch = fetchSettings();
        HttpFetcher fetcher = new HttpFetcher(new UrlPolicy(false, fetch.allowedNetworks()), fetch, 8, TEST_DNS);
        fetchers.add(fetcher);
        return new Robots(new HostLedger(new JdbcTemplate(dataSource)).robots(), fetcher, settings(settings).robots(),
                workerId, clock);
    }

    private String url(String host, String path) {
        return server.url(host, path);
    }

    private static boolean allowed(Robots robots, String url) {
        return robots.check(url) instanceof Robots.Verdict.Allowed;
    }

    @Test
    void ourGroupIsFoundByProductTokenAndTheLongestMatchWinsAllowOnATie() {
        server.robots("rules.test", 200, """
                User-agent: *
                Disallow: /

                User-agent: otherbot
                Allow: /

                User-agent: FetchQ
                Allow: /docs/
                Disallow: /docs/private
                Allow: /docs/private/ok$
                Disallow: /*.pdf$
                Disallow: /tie
                Allow: /tie
                Disallow: /search?
                """);
        Robots robots = robots("w1");

        Map<String, Boolean> expected = new java.util.LinkedHashMap<>();
        expected.put("/docs/page", true); // Allow: /docs/
        expected.put("/other", true); // our group is the only one that applies: no rule matches
        expected.put("/docs/private/x", false); // /docs/private is longer than /docs/
        expected.put("/docs/private/ok", true); // the longest, anchored with $
        expected.put("/docs/private/ok/more", false); // $: the path must end there
        expected.put("/files/a.pdf", false); // * and $
        expected.put("/files/a.pdf?x=1", true); // the query is part of what $ anchors
        expected.put("/tie", true); // equal length: Allow wins
        expected.put("/search?q=1", false);
        expected.put("/search", true);
        Map<String, Boolean> actual = new java.util.LinkedHashMap<>();
        expected.keySet().forEach(path -> actual.put(path, allowed(robots, url("rules.test", path))));

        assertThat(actual).isEqualTo(expected);
        assertThat(server.hits("rules.test", "/robots.txt")).as("fetched once for all checks").isEqualTo(1);
    }

    @Test
    void withoutAGroupOfOursTheStarGroupApplies() {
        server.robots("star.test", 200, "User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\n");
        Robots robots = robots("w1");

        assertThat(allowed(robots, url("star.test", "/public"))).isTrue();
        assertThat(robots.check(url("star.test", "/private/x")))
                .isEqualTo(new Robots.Verdict.Refused("disallowed by http://star.test:" + server.port() + "/robots.txt"));
    }

    @Test
    void aClientErrorAllowsEverythingAndAServerErrorNothingForNow() {
        server.robots("gone.test", 404, "not here");
        server.robots("forbidden.test", 403, "no");
        server.robots("down.test", 503, "down", "Retry-After: 10");
        server.robots("busy.test", 429, "slow down");
        Robots robots = robots("w1");

        assertThat(allowed(robots, url("gone.test", "/anything"))).isTrue();
        assertThat(allowed(robots, url("forbidden.test", "/anything"))).isTrue();
        assertThat(robots.check(url("down.test", "/anything"))).isInstanceOf(Robots.Verdict.Wait.class);
        assertThat(robots.check(url("busy.test", "/anything"))).isInstanceOf(Robots.Verdict.Wait.class);
        // No answer at all (nothing listens on the port): the same.
        int closed = closedPort();
        assertThat(robots.check("http://nobody.test:" + closed + "/anything")).isInstanceOf(Robots.Verdict.Wait.class);

        Map<String, Object> down = sql.sql("SELECT * FROM fetchq.robots WHERE origin = :o")
                .param("o", "http://down.test:" + server.port()).query().singleRow();
        assertThat(down.get("status_code")).isEqualTo(503);
        assertThat(down.get("unreachable_since")).isNotNull();
        assertThat(down.get("body_bytes")).isNull();
    }

    @Test
    void theLastGoodCopyServesThirtyDaysWhileTheOriginFailsThenJobsWaitAndAtLastFail() {
        server.robots("flaky.test", 200, "User-agent: *\nDisallow: /x\n");
        Robots robots = robots("w1", "robots.max-wait", "2h");
        assertThat(allowed(robots, url("flaky.test", "/x"))).isFalse();

        server.robots("flaky.test", 500, "oops");
        clock.advance(Duration.ofHours(25));
        assertThat(allowed(robots, url("flaky.test", "/x"))).as("the good copy still serves").isFalse();
        assertThat(allowed(robots, url("flaky.test", "/y"))).isTrue();
        assertThat(server.hits("flaky.test", "/robots.txt")).isEqualTo(2);

        // 30 days and an hour after the good copy was fetched.
        clock.advance(Duration.ofDays(29));
        Robots.Verdict verdict = robots.check(url("flaky.test", "/y"));
        assertThat(verdict).as("no copy serves after 30 days: wait").isInstanceOf(Robots.Verdict.Wait.class);
        assertThat(((Robots.Verdict.Wait) verdict).reason()).contains("unreachable").contains("status 500");

        clock.advance(Duration.ofHours(1));
        assertThat(robots.check(url("flaky.test", "/y"))).as("past max-wait: refused")
                .isInstanceOf(Robots.Verdict.Refused.class);
    }

    @Test
    void anUnreachableOriginIsTriedAgainAfterItsRetryTimeAndAnswersAtOnceWhenBack() {
        server.robots("back.test", 503, "down");
        Robots robots = robots("w1", "robots.retry-unreachable", "1m");
        Robots.Verdict first = robots.check(url("back.test", "/a"));
        assertThat(first).isInstanceOf(Robots.Verdict.Wait.class);
        assertThat(((Robots.Verdict.Wait) first).ms()).isEqualTo(60_000);

        server.robots("back.test", 200, "User-agent: *\nDisallow: /b\n");
        clock.advance(Duration.ofSeconds(30));
        assertThat(robots.check(url("back.test", "/a"))).isInstanceOf(Robots.Verdict.Wait.class);
        assertThat(server.hits("back.test", "/robots.txt")).isEqualTo(1);

        clock.advance(Duration.ofSeconds(31));
        assertThat(allowed(robots, url("back.test", "/a"))).isTrue();
        assertThat(allowed(robots, url("back.test", "/b"))).isFalse();
        assertThat(server.hits("back.test", "/robots.txt")).isEqualTo(2);
    }

    @Test
    void upToFiveRedirectsAreFollowedEachJudgedByTheUrlPolicy() {
        // hop0 -> hop1 -> ... -> hop5: five redirects, then the rules, which govern hop0.
        for (int i = 0; i < 5; i++) {
            server.robots("hop" + i + ".test", 301, "", "Location: " + url("hop" + (i + 1) + ".test", "/robots.txt"));
        }
        server.robots("hop5.test", 200, "User-agent: *\nDisallow: /secret\n");
        // far0 -> ... -> far6: six redirects, more than RFC 9309's five: as if there were none.
        for (int i = 0; i < 6; i++) {
            server.robots("far" + i + ".test", 302, "", "Location: " + url("far" + (i + 1) + ".test", "/robots.txt"));
        }
        server.robots("far6.test", 200, "User-agent: *\nDisallow: /\n");
        // A hop to a private address is never followed.
        server.robots("sly.test", 301, "", "Location: http://10.0.0.7/robots.txt");
        Robots robots = robots("w1");

        assertThat(allowed(robots, url("hop0.test", "/secret"))).isFalse();
        assertThat(allowed(robots, url("hop0.test", "/open"))).isTrue();
        assertThat(allowed(robots, url("far0.test", "/anything"))).isTrue();
        assertThat(server.hits("far6.test", "/robots.txt")).isZero();
        assertThat(allowed(robots, url("sly.test", "/anything"))).isTrue();
    }

    @Test
    void onlyTheFirst512KiBAreRead() {
        StringBuilder body = new StringBuilder("User-agent: *\nDisallow: /early\n");
        while (body.length() < Robots.MAX_BYTES + 1024) {
            body.append("# padding padding padding padding padding padding padding padding\n");
        }
        body.append("Disallow: /late\n");
        server.robots("big.test", 200, body.toString());
        Robots robots = robots("w1");

        assertThat(allowed(robots, url("big.test", "/early"))).isFalse();
        assertThat(allowed(robots, url("big.test", "/late"))).as("beyond 512 KiB").isTrue();
        assertThat(sql.sql("SELECT body_bytes FROM fetchq.robots WHERE origin = :o")
                .param("o", "http://big.test:" + server.port()).query(Integer.class).single()).isEqualTo(Robots.MAX_BYTES);
    }

    @Test
    void aCopyIsFreshFor24HoursForTheWholeFleetThenFetchedAgain() {
        server.robots("fresh.test", 200, "User-agent: *\nDisallow: /old\n");
        Robots one = robots("w1");
        assertThat(allowed(one, url("fresh.test", "/old"))).isFalse();

        clock.advance(Duration.ofHours(23));
        server.robots("fresh.test", 200, "User-agent: *\nDisallow: /new\n");
        Robots two = robots("w2");
        assertThat(allowed(one, url("fresh.test", "/old"))).isFalse();
        assertThat(allowed(two, url("fresh.test", "/old"))).as("another worker uses the fleet's copy").isFalse();
        assertThat(server.hits("fresh.test", "/robots.txt")).isEqualTo(1);

        clock.advance(Duration.ofHours(1).plusSeconds(1));
        assertThat(allowed(two, url("fresh.test", "/old"))).isTrue();
        assertThat(allowed(two, url("fresh.test", "/new"))).isFalse();
        assertThat(allowed(one, url("fresh.test", "/new"))).isFalse();
        assertThat(server.hits("fresh.test", "/robots.txt")).as("fetched again once, after 24 h").isEqualTo(2);
    }

    @Test
    void crawlDelaySlowsTheHostForTheFleetCappedAt30Seconds() {
        server.robots("slow.test", 200, "User-agent: *\nCrawl-delay: 2\n");
        server.robots("slower.test", 200, "User-agent: fetchq\nCrawl-delay: 100\nDisallow:\n");
        Robots robots = robots("w1");
        assertThat(allowed(robots, url("slow.test", "/a"))).isTrue();
        assertThat(allowed(robots, url("slower.test", "/a"))).isTrue();

        assertThat(sql.sql("SELECT crawl_delay_ms FROM fetchq.hosts WHERE host = 'slow.test'").query(Integer.class)
                .single()).isEqualTo(2000);
        assertThat(sql.sql("SELECT crawl_delay_ms FROM fetchq.robots WHERE origin = :o")
                .param("o", "http://slower.test:" + server.port()).query(Integer.class).single()).isEqualTo(30_000);
        // The fleet's rate of the host: one request per Crawl-delay, even with a faster rate configured.
        assertThat(sql.sql("SELECT interval_ms FROM fetchq.take_host_rate('slow.test', 10, 1)").query(Double.class)
                .single()).isEqualTo(2000.0);
        assertThat(sql.sql("SELECT interval_ms FROM fetchq.take_host_rate('slower.test', 0, 1)").query(Double.class)
                .single()).isEqualTo(30_000.0);
    }

    @Test
    void theProductTokenIsTheUserAgentUpToItsVersion() {
        assertThat(Robots.productToken("fetchq/0.1")).isEqualTo("fetchq");
        assertThat(Robots.productToken("MyCrawler/2.0 (+https://example.com/bot)")).isEqualTo("mycrawler");
        assertThat(Robots.productToken("Plain")).isEqualTo("plain");
    }

    private static int closedPort() {
        try (var socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
