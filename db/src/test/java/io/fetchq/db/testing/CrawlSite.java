package io.fetchq.db.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A generated web site of several hosts on one loopback port, for crawls: each host (told apart by
 * the {@code Host} header) has pages {@code /p/0} to {@code /p/(n-1)}, each linking to a few others
 * of its host (cycles included), to a page of the next host, to a site outside any scope, to a page
 * robots.txt keeps out ({@code /private/i}), to a trap marked {@code rel=nofollow}
 * ({@code /trap/i}), and to one page twice more under other spellings (query parameters in another
 * order, a fragment, a dot segment). Every tenth page says {@code <meta name="robots"
 * content="nofollow">}. A host's robots.txt is {@code Disallow: /private/} unless set otherwise.
 *
 * <p>{@link #expected} walks the same graph as a crawl that obeys the rules should, so a test
 * compares what was fetched with what should have been.
 */
public final class CrawlSite implements AutoCloseable {

    /** A page of the site: its host and path (with query, if any). */
    public record Page(String host, String path) {
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Integer> pages = new LinkedHashMap<>();
    private final Map<String, String[]> robots = new ConcurrentHashMap<>();
    private final Map<Page, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();

    /** @param hosts each host's number of pages, in order: a host's pages link to the next host's */
    public CrawlSite(Map<String, Integer> hosts) throws IOException {
        this(hosts, InetAddress.getLoopbackAddress(), 0);
    }

    public CrawlSite(Map<String, Integer> hosts, InetAddress address, int port) throws IOException {
        pages.putAll(hosts);
        server = new ServerSocket();
        server.bind(new InetSocketAddress(address, port), 1024);
        threads.submit(this::accept);
    }

    public int port() {
        return server.getLocalPort();
    }

    public String url(String host, String path) {
        return "http://" + host + ":" + port() + path;
    }

    /** What {@code /robots.txt} answers on {@code host}: a status and a body. */
    public void robots(String host, int status, String body) {
        robots.put(host, new String[] {Integer.toString(status), body});
    }

    private final Map<String, Integer> orphans = new ConcurrentHashMap<>();

    /**
     * Gives {@code host} sitemaps: its robots.txt names {@code /sitemap-index.xml}, an index of
     * {@code /sitemap-1.xml}, which lists {@code /p/1} and {@code n} pages no page links to
     * ({@code /orphan/0} to {@code /orphan/(n-1)}).
     */
    public void sitemaps(String host, int n) {
        orphans.put(host, n);
    }

    /** Requests for a page (its path with query). */
    public int hits(String host, String path) {
        AtomicInteger n = hits.get(new Page(host, path));
        return n == null ? 0 : n.get();
    }

    /** Every page requested so far and how often (robots.txt aside). */
    public Map<Page, Integer> fetched() {
        Map<Page, Integer> fetched = new HashMap<>();
        hits.forEach((page, n) -> {
            if (!page.path().equals("/robots.txt")) {
                fetched.put(page, n.get());
            }
        });
        return fetched;
    }

    public int requests() {
        return requests.get();
    }

    /** The next host after {@code host}, in the order given (the last wraps to the first). */
    private String nextHost(String host) {
        List<String> hosts = new ArrayList<>(pages.keySet());
        return hosts.get((hosts.indexOf(host) + 1) % hosts.size());
    }

    /** A link of a page: where it points (as written on the page, resolved) and whether it is nofollow. */
    public record Link(String host, String path, boolean nofollow) {
    }

    /** The links of page {@code i} of {@code host}, resolved, in page order. */
    public List<Link> links(String host, int i) {
        int n = pages.get(host);
        String next = nextHost(host);
        List<Link> links = new ArrayList<>();
        links.add(new Link(host, "/p/" + ((i * 7 + 1) % n), false));
        links.add(new Link(host, "/p/" + ((i * 13 + 5) % n), false));
        links.add(new Link(host, "/p/" + ((i + 1) % n), false));
        links.add(new Link(host, "/p/" + ((i + 2) % n) + "?a=1&b=2", false));
        links.add(new Link(host, "/p/" + ((i + 2) % n) + "?b=2&a=1", false));
        links.add(new Link(host, "/private/" + i, false));
        links.add(new Link(host, "/trap/" + i, true));
        links.add(new Link(next, "/p/" + (i % pages.get(next)), false));
        links.add(new Link("elsewhere.invalid", "/x/" + i, false));
        return links;
    }

    /** Whether page {@code i} asks, by its meta robots tag, that its links not be followed. */
    public static boolean pageNofollow(int i) {
        return i % 10 == 9;
    }

    private String html(String host, int i) {
        StringBuilder body = new StringBuilder("<!doctype html><html><head><title>").append(host).append(' ').append(i)
                .append("</title>");
        if (pageNofollow(i)) {
            body.append("<meta name=\"robots\" content=\"noindex, nofollow\">");
        }
        body.append("</head><body>");
        int n = pages.get(host);
        String next = nextHost(host);
        // The same links as links(), spelled as a page would: relative, with a dot segment, a fragment.
        body.append("<a href=\"/p/").append((i * 7 + 1) % n).append("\">a</a>");
        body.append("<a href=\"").append(url(host, "/p/" + ((i * 13 + 5) % n))).append("#top\">b</a>");
        body.append("<a href=\"../p/").append((i + 1) % n).append("\">c</a>");
        body.append("<a href=\"/p/").append((i + 2) % n).append("?a=1&amp;b=2\">d</a>");
        body.append("<a href=\"/p/").append((i + 2) % n).append("?b=2&amp;a=1#x\">e</a>");
        body.append("<a href=\"/private/").append(i).append("\">f</a>");
        body.append("<a rel=\"nofollow\" href=\"/trap/").append(i).append("\">g</a>");
        body.append("<a href=\"").append(url(next, "/p/" + (i % pages.get(next)))).append("\">h</a>");
        body.append("<a href=\"http://elsewhere.invalid:").append(port()).append("/x/").append(i).append("\">i</a>");
        body.append("<a href=\"mailto:someone@example.com\">mail</a>");
        return body.append("</body></html>").toString();
    }

    /**
     * The pages a crawl from {@code seeds} (pages of hosts) fetches when it follows links within the
     * seeds' hosts to {@code maxDepth}, obeys {@code /private/} and nofollow, and does not fetch pages
     * of {@code unreachable} hosts (their robots.txt never answers): by path with query as first found.
     */
    public Set<Page> expected(List<Page> seeds, int maxDepth, Set<String> unreachable) {
        Set<String> scope = new HashSet<>();
        seeds.forEach(s -> scope.add(s.host()));
        Set<String> seen = new HashSet<>();
        Set<Page> fetched = new HashSet<>();
        ArrayDeque<Object[]> queue = new ArrayDeque<>();
        for (Page seed : seeds) {
            if (seen.add(key(seed))) {
                queue.add(new Object[] {seed, 0});
            }
        }
        while (!queue.isEmpty()) {
            Object[] next = queue.poll();
            Page page = (Page) next[0];
            int depth = (Integer) next[1];
            if (unreachable.contains(page.host())) {
                continue;
            }
            fetched.add(page);
            if (!page.path().startsWith("/p/") || depth >= maxDepth) {
                continue;
            }
            int i = number(page.path());
            if (pageNofollow(i)) {
                continue;
            }
            for (Link link : links(page.host(), i)) {
                Page to = new Page(link.host(), link.path());
                if (link.nofollow() || !scope.contains(link.host()) || link.path().startsWith("/private/")) {
                    continue;
                }
                if (seen.add(key(to))) {
                    queue.add(new Object[] {to, depth + 1});
                }
            }
        }
        return fetched;
    }

    private static String key(Page page) {
        String path = page.path();
        int q = path.indexOf('?');
        if (q >= 0) {
            List<String> params = new ArrayList<>(List.of(path.substring(q + 1).split("&")));
            params.sort(null);
            path = path.substring(0, q) + "?" + String.join("&", params);
        }
        return page.host() + path;
    }

    private static int number(String path) {
        String rest = path.substring(path.lastIndexOf('/') + 1);
        int q = rest.indexOf('?');
        return Integer.parseInt(q >= 0 ? rest.substring(0, q) : rest);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                threads.submit(() -> serve(socket));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            String requestLine = in.readLine();
            if (requestLine == null) {
                return;
            }
            String host = "?";
            String line;
            while ((line = in.readLine()) != null && !line.isEmpty()) {
                if (line.toLowerCase(Locale.ROOT).startsWith("host:")) {
                    host = line.substring(5).strip().replaceAll(":\\d+$", "");
                }
            }
            String target = requestLine.split(" ")[1];
            requests.incrementAndGet();
            hits.computeIfAbsent(new Page(host, target), p -> new AtomicInteger()).incrementAndGet();
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            OutputStream out = socket.getOutputStream();
            if (path.equals("/robots.txt")) {
                String[] answer = robots.getOrDefault(host, new String[] {"200", "User-agent: *\nDisallow: /private/\n"});
                String body = answer[1] + (orphans.containsKey(host) ? "Sitemap: " + url(host, "/sitemap-index.xml") + "\n" : "");
                ChaosServer.send(out, Integer.parseInt(answer[0]), "text/plain", body);
            } else if (path.equals("/sitemap-index.xml") && orphans.containsKey(host)) {
                ChaosServer.send(out, 200, "application/xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                        + "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><sitemap><loc>"
                        + url(host, "/sitemap-1.xml") + "</loc></sitemap></sitemapindex>");
            } else if (path.equals("/sitemap-1.xml") && orphans.containsKey(host)) {
                StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                        + "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">");
                xml.append("<url><loc>").append(url(host, "/p/1")).append("</loc></url>");
                for (int i = 0; i < orphans.get(host); i++) {
                    xml.append("<url><loc>").append(url(host, "/orphan/" + i)).append("</loc></url>");
                }
                ChaosServer.send(out, 200, "application/xml", xml.append("</urlset>").toString());
            } else if (path.startsWith("/orphan/")) {
                ChaosServer.send(out, 200, "text/html", "<html><title>orphan</title></html>");
            } else if (path.startsWith("/p/") && pages.containsKey(host)) {
                int i = number(path);
                if (i < 0 || i >= pages.get(host)) {
                    ChaosServer.send(out, 404, "text/plain", "no such page");
                } else {
                    ChaosServer.send(out, 200, "text/html; charset=utf-8", html(host, i));
                }
            } else if (path.startsWith("/private/") || path.startsWith("/trap/")) {
                ChaosServer.send(out, 200, "text/html", "<html><title>leaf</title></html>");
            } else {
                ChaosServer.send(out, 404, "text/plain", "no such page");
            }
        } catch (IOException | RuntimeException e) {
            // the client went away
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
