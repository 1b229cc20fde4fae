package io.fetchq.worker.process;

import io.fetchq.db.CrawlQueries;
import io.fetchq.worker.fetch.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;

/**
 * CPU work on fetched bodies — SHA-256 and HTML extraction — on a bounded pool of platform threads
 * sized to the cores, not on the fetch threads: the asyncio rule of keeping CPU work off the IO
 * loop. A fetch thread hands the body over and waits (a virtual thread waiting costs nothing).
 * Only the hash of a small body with nothing to extract is computed where it is, as handing it
 * over would cost two thread switches for a few microseconds of work.
 */
public final class Processor implements AutoCloseable {

    /** Links kept per page: enough for crawling, bounded for the row size. */
    public static final int MAX_LINKS = 1000;

    /**
     * What the CPU pool made of a body.
     *
     * @param found a crawl page's links, in page order, each once (followable if any link to it is)
     * @param nofollow the page asks, by its meta robots tag, that none of its links be followed
     */
    public record Processed(String sha256, String title, String linksJson, List<Found> found, boolean nofollow) {
        public Processed(String sha256, String title, String linksJson) {
            this(sha256, title, linksJson, List.of(), false);
        }
    }

    /** A link of a crawl page: absolute ({@code <base>} honoured), without its fragment. */
    public record Found(String url, boolean nofollow) {
    }

    private final ExecutorService pool;

    public Processor(int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "fetchq-cpu-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = Executors.newFixedThreadPool(threads, factory);
    }

    /** Bodies hashed on the fetch thread itself when there is nothing to extract: some microseconds of work. */
    static final int INLINE_BYTES = 16 * 1024;

    public Processed process(byte[] body, String contentType, String url, List<String> extract) {
        return process(body, contentType, url, extract, null);
    }

    /**
     * As above; {@code crawlToken} non-null for a crawl's page: its links are read for the crawl,
     * with their {@code rel=nofollow}, and the page's meta robots tags ({@code robots}, or named
     * by the product token) for {@code nofollow} or {@code none}.
     */
    public Processed process(byte[] body, String contentType, String url, List<String> extract, String crawlToken) {
        if (body.length <= INLINE_BYTES && extract.isEmpty() && crawlToken == null) {
            return new Processed(sha256(body), null, null);
        }
        return CompletableFuture.supplyAsync(() -> compute(body, contentType, url, extract, crawlToken), pool).join();
    }

    static Processed compute(byte[] body, String contentType, String url, List<String> extract) {
        return compute(body, contentType, url, extract, null);
    }

    static Processed compute(byte[] body, String contentType, String url, List<String> extract, String crawlToken) {
        String sha = sha256(body);
        if ((extract.isEmpty() && crawlToken == null) || !looksLikeHtml(contentType, body)) {
            return new Processed(sha, null, null);
        }
        Document doc;
        try {
            doc = Jsoup.parse(new ByteArrayInputStream(body), charset(contentType), url);
        } catch (IOException e) {
            return new Processed(sha, null, null);
        }
        String title = null;
        if (extract.contains("title")) {
            String t = doc.title().strip();
            title = t.isEmpty() ? null : t.length() > 1000 ? t.substring(0, 1000) : t;
        }
        String links = null;
        if (extract.contains("links")) {
            Set<String> found = new LinkedHashSet<>();
            for (Element a : doc.select("a[href]")) {
                String href = a.absUrl("href");
                if ((href.startsWith("http://") || href.startsWith("https://")) && found.size() < MAX_LINKS) {
                    int hash = href.indexOf('#');
                    found.add(hash >= 0 ? href.substring(0, hash) : href);
                }
            }
            links = Json.strings(List.copyOf(found));
        }
        if (crawlToken == null) {
            return new Processed(sha, title, links);
        }
        return new Processed(sha, title, links, crawlLinks(doc), metaNofollow(doc, crawlToken));
    }

    /** A crawl page's links, each once, at most {@link CrawlQueries#MAX_LINKS_PER_PAGE}. */
    private static List<Found> crawlLinks(Document doc) {
        Map<String, Boolean> followable = new LinkedHashMap<>();
        for (Element a : doc.select("a[href], area[href]")) {
            String href = a.absUrl("href");
            if (!(href.startsWith("http://") || href.startsWith("https://"))) {
                continue;
            }
            int hash = href.indexOf('#');
            String link = hash >= 0 ? href.substring(0, hash) : href;
            boolean follow = !hasToken(a.attr("rel"), "nofollow");
            if (followable.containsKey(link)) {
                followable.merge(link, follow, Boolean::logicalOr);
            } else if (followable.size() < CrawlQueries.MAX_LINKS_PER_PAGE) {
                followable.put(link, follow);
            }
        }
        List<Found> found = new ArrayList<>(followable.size());
        followable.forEach((link, follow) -> found.add(new Found(link, !follow)));
        return found;
    }

    private static boolean metaNofollow(Document doc, String token) {
        for (Element meta : doc.select("meta[name][content]")) {
            String name = meta.attr("name").toLowerCase(Locale.ROOT);
            if (name.equals("robots") || name.equals(token)) {
                String content = meta.attr("content");
                if (hasToken(content, "nofollow") || hasToken(content, "none")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether a list of tokens (separated by spaces or commas) has {@code token}, in any case. */
    static boolean hasToken(String list, String token) {
        for (String t : list.split("[\\s,]+")) {
            if (t.equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }

    private static boolean looksLikeHtml(String contentType, byte[] body) {
        if (contentType != null) {
            String type = contentType.toLowerCase(Locale.ROOT);
            return type.contains("html") || type.contains("xml");
        }
        return body.length > 0 && (body[0] == '<' || (body.length > 3 && body[3] == '<'));
    }

    private static String charset(String contentType) {
        if (contentType == null) {
            return null;
        }
        int at = contentType.toLowerCase(Locale.ROOT).indexOf("charset=");
        if (at < 0) {
            return null;
        }
        String cs = contentType.substring(at + 8).replace("\"", "").split(";")[0].strip();
        return java.nio.charset.Charset.isSupported(cs) ? cs : null;
    }

    static String sha256(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
