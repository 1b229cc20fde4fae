package io.fetchq.worker.crawl;

import crawlercommons.sitemaps.AbstractSiteMap;
import crawlercommons.sitemaps.SiteMap;
import crawlercommons.sitemaps.SiteMapIndex;
import crawlercommons.sitemaps.SiteMapParser;
import io.fetchq.db.ClaimedJob;
import io.fetchq.db.CrawlLink;
import io.fetchq.db.CrawlQueries;
import io.fetchq.url.CrawlUrls;
import io.fetchq.url.UrlCheck;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.fetch.FetchOutcome;
import io.fetchq.worker.process.Processor;
import io.fetchq.worker.robots.Robots;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

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
            int maxDepth, boolean robots, boolean sitemaps) {
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

    /**
     * The page's links as the crawl takes them; none when the crawl is gone. A seed of a crawl that
     * reads sitemaps adds the sitemaps its origin's robots.txt names.
     */
    public List<CrawlLink> of(ClaimedJob job, String pageUrl, Processor.Processed page, String robotsTag) {
        ClaimedJob.CrawlPage at = job.crawl();
        Crawl crawl = crawl(at.crawlId());
        if (crawl == null) {
            return List.of();
        }
        boolean pageNofollow = page.nofollow() || headerNofollow(robotsTag, token);
        Map<String, Integer> seen = new HashMap<>();
        List<CrawlLink> links = new ArrayList<>(page.found().size());
        for (Processor.Found found : page.found()) {
            add(crawl, job, found.url(), pageNofollow || found.nofollow(), seen, links);
        }
        if (crawl.sitemaps() && at.depth() == 0) {
            for (String sitemap : robots.sitemaps(pageUrl)) {
                sitemap(crawl, job, sitemap, links);
            }
        }
        return links;
    }

    /**
     * A sitemap's URLs as the crawl takes them (links of depth one more than the sitemap's), or, for
     * a sitemap index, the sitemaps it lists; at most {@link CrawlQueries#MAX_SITEMAP_URLS}. What is
     * not a sitemap gives nothing.
     */
    public List<CrawlLink> ofSitemap(ClaimedJob job, FetchOutcome.Response response) {
        Crawl crawl = crawl(job.crawl().crawlId());
        if (crawl == null) {
            return List.of();
        }
        AbstractSiteMap parsed;
        try {
            byte[] body = response.body();
            String type = response.contentType();
            if (body.length > 1 && (body[0] & 0xff) == 0x1f && (body[1] & 0xff) == 0x8b) {
                // Gzipped (sitemap.xml.gz): unpacked here, to the protocol's 50 MiB at most.
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                    body = in.readNBytes(CrawlQueries.MAX_SITEMAP_BYTES);
                }
                type = "application/xml";
            }
            parsed = new SiteMapParser(false).parseSiteMap(type, body, URI.create(response.finalUrl()).toURL());
        } catch (Exception notASitemap) {
            return List.of();
        }
        List<CrawlLink> links = new ArrayList<>();
        if (parsed instanceof SiteMapIndex index) {
            index.getSitemaps().stream().limit(CrawlQueries.MAX_SITEMAP_URLS)
                    .forEach(s -> sitemap(crawl, job, s.getUrl().toString(), links));
        } else if (parsed instanceof SiteMap sitemap) {
            Map<String, Integer> seen = new HashMap<>();
            sitemap.getSiteMapUrls().stream().limit(CrawlQueries.MAX_SITEMAP_URLS)
                    .forEach(u -> add(crawl, job, u.getUrl().toString(), false, seen, links));
        }
        return links;
    }

    /**
     * Adds a link once per key: a URL is followed if any link to it is followable, so a later
     * followable spelling of a URL first seen as nofollow is judged again.
     */
    private void add(Crawl crawl, ClaimedJob job, String link, boolean nofollow, Map<String, Integer> seen,
            List<CrawlLink> links) {
        UrlCheck check = policy.check(link);
        if (!check.valid()) {
            return;
        }
        String key = CrawlUrls.key(check.url());
        Integer earlier = seen.get(key);
        if (earlier != null && (nofollow || !"nofollow".equals(links.get(earlier).skipped()))) {
            return;
        }
        String url = check.normalized();
        CrawlLink judged = new CrawlLink(job.crawl().crawlId(), job.jobId(), job.crawl().depth() + 1,
                earlier != null ? links.get(earlier).url() : url, CrawlUrls.hash(key), check.url().host(),
                judge(crawl, job.crawl(), check, url, nofollow));
        if (earlier != null) {
            links.set(earlier, judged);
        } else {
            seen.put(key, links.size());
            links.add(judged);
        }
    }

    /**
     * A sitemap to read, at the depth of the job that names it (its URLs are one deeper), when it is
     * in the crawl's scope.
     */
    private void sitemap(Crawl crawl, ClaimedJob job, String url, List<CrawlLink> links) {
        UrlCheck check = policy.check(url);
        if (check.allowed() && crawl.scopeKeys().contains(CrawlUrls.scopeKey(crawl.scope(), check.url()))) {
            links.add(new CrawlLink(job.crawl().crawlId(), job.jobId(), job.crawl().depth(), check.normalized(),
                    CrawlUrls.keyHash(check.url()), check.url().host(), null, true));
        }
    }

    private String judge(Crawl crawl, ClaimedJob.CrawlPage at, UrlCheck check, String url, boolean nofollow) {
        if (nofollow) {
            return "nofollow";
        }
        if (at.depth() >= crawl.maxDepth()) {
            return "depth";
        }
        if (!crawl.scopeKeys().contains(CrawlUrls.scopeKey(crawl.scope(), check.url())) || !matches(crawl, url)) {
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

    /** The longest the include and exclude patterns may take over one link. */
    static final long MATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /**
     * Whether {@code url} matches one include pattern (if any) and no exclude pattern. A pattern that
     * backtracks past {@link #MATCH_NANOS} on it (a catastrophic regex) does not hold the thread: the
     * link counts as out of scope.
     */
    private static boolean matches(Crawl crawl, String url) {
        if (crawl.include().isEmpty() && crawl.exclude().isEmpty()) {
            return true;
        }
        CharSequence bounded = new Bounded(url, System.nanoTime() + MATCH_NANOS);
        try {
            return (crawl.include().isEmpty() || crawl.include().stream().anyMatch(p -> p.matcher(bounded).find()))
                    && crawl.exclude().stream().noneMatch(p -> p.matcher(bounded).find());
        } catch (TooLong e) {
            return false;
        }
    }

    private static final class TooLong extends RuntimeException {
        TooLong() {
            super(null, null, false, false);
        }
    }

    /** Text whose reads fail past a deadline: what a regex reads while it matches. */
    private record Bounded(String text, long deadline) implements CharSequence {
        @Override
        public char charAt(int index) {
            if (System.nanoTime() - deadline > 0) {
                throw new TooLong();
            }
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Bounded(text.substring(start, end), deadline);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    private Crawl crawl(long id) {
        Crawl known = crawls.get(id);
        if (known != null) {
            return known;
        }
        Crawl crawl = queries.settings(id).map(s -> new Crawl(CrawlUrls.Scope.of(s.scope()), Set.copyOf(s.scopeKeys()),
                s.include().stream().map(Pattern::compile).toList(), s.exclude().stream().map(Pattern::compile).toList(),
                s.maxDepth(), s.robots(), s.sitemaps())).orElse(null);
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
        for (String header : robotsTag.toLowerCase(Locale.ROOT).split("\n")) {
            // A crawler's name applies to the directives after it, in its own header.
            String agent = null;
            for (String part : header.split(",")) {
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
        }
        return false;
    }
}
