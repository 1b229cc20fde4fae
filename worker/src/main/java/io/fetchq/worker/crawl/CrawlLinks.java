package io.fetchq.worker.crawl;

import io.fetchq.db.ClaimedJob;
import io.fetchq.db.CrawlLink;
import io.fetchq.db.CrawlQueries;
import io.fetchq.url.CrawlUrls;
import io.fetchq.url.UrlCheck;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.process.Processor;
import io.fetchq.worker.robots.Robots;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Judges a crawl page's links for its crawl, on the fetch thread: each is normalised and checked
 * against the page's {@code nofollow} (the link's {@code rel}, the page's meta robots tag, its
 * {@code X-Robots-Tag}), the crawl's depth, its scope and include/exclude patterns, the URL policy
 * and, when the crawl obeys it, the robots.txt of the link's origin (fetched only for origins in
 * scope). What is left are candidates: the database enqueues each once per crawl within its limits
 * ({@link CrawlQueries#enqueue}).
 */
public final class CrawlLinks {

    /** Crawls whose settings a worker keeps. */
    static final int CACHED_CRAWLS = 1000;

    private final CrawlQueries queries;
    private final UrlPolicy policy;
    private final Robots robots;
    private final String token;
    private final Map<Long, Crawl> crawls = new ConcurrentHashMap<>();

    /** A crawl's settings as the checks use them. */
    private record Crawl(CrawlUrls.Scope scope, Set<String> scopeKeys, List<Pattern> include, List<Pattern> exclude,
            int maxDepth, boolean robots) {
    }

    public CrawlLinks(CrawlQueries queries, UrlPolicy policy, Robots robots, String userAgent) {
        this.queries = queries;
        this.policy = policy;
        this.robots = robots;
        this.token = Robots.productToken(userAgent);
    }

    /** The product token a page's meta robots tags and {@code X-Robots-Tag} may name us by. */
    public String token() {
        return token;
    }

    /** The page's links as the crawl takes them; none when the crawl is gone. */
    public List<CrawlLink> of(ClaimedJob job, Processor.Processed page, String robotsTag) {
        ClaimedJob.CrawlPage at = job.crawl();
        Crawl crawl = crawl(at.crawlId());
        if (crawl == null || page.found().isEmpty()) {
            return List.of();
        }
        boolean pageNofollow = page.nofollow() || headerNofollow(robotsTag, token);
        int depth = at.depth() + 1;
        Set<String> seen = new HashSet<>();
        List<CrawlLink> links = new ArrayList<>(page.found().size());
        for (Processor.Found found : page.found()) {
            UrlCheck check = policy.check(found.url());
            if (!check.valid()) {
                continue;
            }
            String url = check.normalized();
            String key = CrawlUrls.key(check.url());
            if (!seen.add(key)) {
                continue;
            }
            String skipped = judge(crawl, at, check, url, pageNofollow || found.nofollow());
            links.add(new CrawlLink(at.crawlId(), job.jobId(), depth, url, CrawlUrls.hash(key), check.url().host(),
                    skipped));
        }
        return links;
    }

    private String judge(Crawl crawl, ClaimedJob.CrawlPage at, UrlCheck check, String url, boolean nofollow) {
        if (nofollow) {
            return "nofollow";
        }
        if (at.depth() >= crawl.maxDepth()) {
            return "depth";
        }
        if (!crawl.scopeKeys().contains(CrawlUrls.scopeKey(crawl.scope(), check.url()))
                || (!crawl.include().isEmpty() && crawl.include().stream().noneMatch(p -> p.matcher(url).find()))
                || crawl.exclude().stream().anyMatch(p -> p.matcher(url).find())) {
            return "scope";
        }
        if (!check.allowed()) {
            return "blocked";
        }
        if (crawl.robots() && robots.check(url) instanceof Robots.Verdict.Refused) {
            return "robots";
        }
        return null;
    }

    private Crawl crawl(long id) {
        Crawl known = crawls.get(id);
        if (known != null) {
            return known;
        }
        Crawl crawl = queries.settings(id).map(s -> new Crawl(CrawlUrls.Scope.of(s.scope()), Set.copyOf(s.scopeKeys()),
                s.include().stream().map(Pattern::compile).toList(), s.exclude().stream().map(Pattern::compile).toList(),
                s.maxDepth(), s.robots())).orElse(null);
        if (crawl != null) {
            if (crawls.size() >= CACHED_CRAWLS) {
                crawls.clear();
            }
            crawls.put(id, crawl);
        }
        return crawl;
    }

    /**
     * Whether {@code X-Robots-Tag} says {@code nofollow} (or {@code none}) to every crawler or to
     * ours: {@code "nofollow"}, {@code "noindex, nofollow"}, {@code "fetchq: none"}; a directive
     * after another crawler's name ({@code "otherbot: nofollow"}) is that crawler's.
     */
    static boolean headerNofollow(String robotsTag, String token) {
        if (robotsTag == null) {
            return false;
        }
        String agent = null;
        for (String part : robotsTag.toLowerCase(Locale.ROOT).split(",")) {
            String directive = part.strip();
            int colon = directive.indexOf(':');
            if (colon > 0 && !directive.startsWith("unavailable_after") && !directive.startsWith("max-")) {
                agent = directive.substring(0, colon).strip();
                directive = directive.substring(colon + 1).strip();
            }
            if ((agent == null || agent.equals(token)) && (directive.equals("nofollow") || directive.equals("none"))) {
                return true;
            }
        }
        return false;
    }
}
