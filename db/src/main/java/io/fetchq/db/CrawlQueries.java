package io.fetchq.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Crawls ({@code fetchq.crawl}, see {@code V13__crawls.sql}): their creation, reads and cancel for the
 * API, their settings for the workers, and the one statement that enqueues links — a crawl's seeds
 * and every page's links alike.
 */
@Repository
public class CrawlQueries {

    /** The most links a crawl reads from one page. */
    public static final int MAX_LINKS_PER_PAGE = 1000;
    /** The most URLs read from one sitemap, and its largest size (the sitemaps protocol's limits). */
    public static final int MAX_SITEMAP_URLS = 50_000;
    public static final int MAX_SITEMAP_BYTES = 50 * 1024 * 1024;
    /** The most sitemaps one crawl reads (sitemap indexes included). */
    public static final int MAX_SITEMAPS = 1000;

    /**
     * Enqueues links of crawls whose rows the caller's transaction has locked ({@link #lockCrawls}):
     * under the lock this statement's snapshot sees every link enqueued before, so the limits hold
     * exactly. Followable links new to their crawl, once each (the first to each URL), are admitted
     * in the order they came, as far as {@code max_pages_per_host} and then {@code max_pages} leave
     * room; each becomes a job (the crawl's request, its depth and the page that links to it), a
     * queue row and a frontier row. Every link is recorded in {@code crawl_link} with the job it
     * names or why it is not followed, and counted on the crawl.
     */
    private static final String ENQUEUE = """
            WITH input AS (
                SELECT * FROM unnest((SELECT ?::bigint[]), (SELECT ?::bigint[]), (SELECT ?::int[]), (SELECT ?::text[]),
                                     (SELECT ?::bytea[]), (SELECT ?::text[]), (SELECT ?::text[]), (SELECT ?::boolean[]))
                    WITH ORDINALITY AS u(crawl_id, from_job, depth, url, url_key, host, reason, sitemap, ord)
            ), fresh AS (
                SELECT DISTINCT ON (i.crawl_id, i.url_key) i.*
                FROM input i
                WHERE i.reason IS NULL
                  AND NOT EXISTS (SELECT 1 FROM fetchq.crawl_frontier f
                                  WHERE f.crawl_id = i.crawl_id AND f.url_key = i.url_key)
                ORDER BY i.crawl_id, i.url_key, i.ord
            ), host_room AS (
                SELECT f.*
                FROM (SELECT f.*, row_number() OVER (PARTITION BY f.crawl_id, f.host ORDER BY f.ord) AS host_rank
                      FROM fresh f WHERE NOT f.sitemap) f
                JOIN fetchq.crawl c ON c.id = f.crawl_id
                LEFT JOIN fetchq.crawl_host h ON h.crawl_id = f.crawl_id AND h.host = f.host
                WHERE NOT c.cancelled
                  AND (c.max_pages_per_host IS NULL OR f.host_rank <= c.max_pages_per_host - COALESCE(h.enqueued, 0))
            ), admitted AS (
                SELECT r.crawl_id, r.from_job, r.depth, r.url, r.url_key, r.host, r.sitemap, r.ord
                FROM (SELECT r.*, row_number() OVER (PARTITION BY r.crawl_id ORDER BY r.ord) AS rank FROM host_room r) r
                JOIN fetchq.crawl c ON c.id = r.crawl_id
                WHERE r.rank <= c.max_pages - c.enqueued
                UNION ALL
                -- Sitemaps are read whatever the page limits (their URLs are judged as links), at most
                -- MAX_SITEMAPS per crawl.
                SELECT f.crawl_id, f.from_job, f.depth, f.url, f.url_key, f.host, f.sitemap, f.ord
                FROM (SELECT f.*, row_number() OVER (PARTITION BY f.crawl_id ORDER BY f.ord) AS rank
                      FROM fresh f WHERE f.sitemap) f
                JOIN fetchq.crawl c ON c.id = f.crawl_id
                WHERE NOT c.cancelled AND f.rank <= ? - c.sitemaps_enqueued
            ), jobs AS (
                INSERT INTO fetchq.job (tenant, batch_id, url, host, method, headers, priority, run_at, max_attempts,
                                        timeout_ms, max_body_bytes, store_body, follow_redirects, extract, metadata,
                                        robots, crawl_id, depth, parent_job_id, sitemap)
                SELECT c.tenant, c.batch_id, a.url, a.host, 'GET', c.headers, c.priority, now(), c.max_attempts,
                       c.timeout_ms, CASE WHEN a.sitemap THEN ? ELSE c.max_body_bytes END, c.store_body AND NOT a.sitemap,
                       c.follow_redirects, CASE WHEN a.sitemap THEN '{}' ELSE c.extract END, c.metadata,
                       c.robots, a.crawl_id, a.depth, a.from_job, a.sitemap
                FROM admitted a
                JOIN fetchq.crawl c ON c.id = a.crawl_id
                ORDER BY a.ord
                RETURNING id, batch_id, priority, run_at, host, max_attempts, crawl_id, url
            ), queued AS (
                INSERT INTO fetchq.queue (job_id, batch_id, priority, run_at, host, attempt_limit, state)
                SELECT id, batch_id, priority, run_at, host, max_attempts, 'queued' FROM jobs
            ), new_pages AS (
                SELECT a.crawl_id, a.url_key, a.ord, a.host, a.sitemap, j.id AS job_id, j.batch_id
                FROM admitted a
                JOIN jobs j ON j.crawl_id = a.crawl_id AND j.url = a.url
            ), frontier AS (
                INSERT INTO fetchq.crawl_frontier (crawl_id, url_key, job_id)
                SELECT crawl_id, url_key, job_id FROM new_pages ORDER BY crawl_id, url_key
            ), outcome AS (
                SELECT i.crawl_id, i.from_job, i.url, COALESCE(p.job_id, n.job_id) AS to_job,
                       CASE WHEN i.reason IS NOT NULL THEN i.reason
                            WHEN n.ord = i.ord THEN NULL
                            WHEN p.job_id IS NOT NULL OR n.job_id IS NOT NULL THEN 'duplicate'
                            ELSE 'limit' END AS skipped
                FROM input i
                LEFT JOIN fetchq.crawl_frontier p ON p.crawl_id = i.crawl_id AND p.url_key = i.url_key
                LEFT JOIN new_pages n ON n.crawl_id = i.crawl_id AND n.url_key = i.url_key
                WHERE NOT i.sitemap
            ), links AS (
                INSERT INTO fetchq.crawl_link (crawl_id, from_job_id, to_url, to_job_id, skipped)
                SELECT crawl_id, from_job, url, to_job, skipped FROM outcome ORDER BY crawl_id
            ), counted AS (
                UPDATE fetchq.crawl c
                SET discovered = c.discovered + o.n, enqueued = c.enqueued + o.enqueued,
                    skipped_scope = c.skipped_scope + o.scope, skipped_robots = c.skipped_robots + o.robots,
                    skipped_duplicate = c.skipped_duplicate + o.duplicate, skipped_limit = c.skipped_limit + o.lim,
                    skipped_nofollow = c.skipped_nofollow + o.nofollow,
                    sitemaps_enqueued = c.sitemaps_enqueued + (SELECT count(*) FROM new_pages n
                                                               WHERE n.crawl_id = c.id AND n.sitemap)
                FROM (SELECT x.crawl_id, count(o.url) AS n, count(o.url) FILTER (WHERE o.skipped IS NULL) AS enqueued,
                             count(o.url) FILTER (WHERE o.skipped IN ('scope', 'blocked')) AS scope,
                             count(o.url) FILTER (WHERE o.skipped = 'robots') AS robots,
                             count(o.url) FILTER (WHERE o.skipped = 'duplicate') AS duplicate,
                             count(o.url) FILTER (WHERE o.skipped IN ('limit', 'depth')) AS lim,
                             count(o.url) FILTER (WHERE o.skipped = 'nofollow') AS nofollow
                      FROM (SELECT DISTINCT crawl_id FROM input) x
                      LEFT JOIN outcome o ON o.crawl_id = x.crawl_id
                      GROUP BY x.crawl_id) o
                WHERE c.id = o.crawl_id
            ), hosts AS (
                INSERT INTO fetchq.crawl_host AS h (crawl_id, host, enqueued)
                SELECT crawl_id, host, count(*) FROM new_pages WHERE NOT sitemap GROUP BY crawl_id, host
                ORDER BY crawl_id, host
                ON CONFLICT (crawl_id, host) DO UPDATE SET enqueued = h.enqueued + EXCLUDED.enqueued
            ), totals AS (
                UPDATE fetchq.batch b SET total = b.total + n.n
                FROM (SELECT batch_id, count(*) AS n FROM new_pages GROUP BY batch_id) n
                WHERE b.id = n.batch_id
            )
            SELECT count(*) FROM new_pages""";

    private final JdbcClient jdbc;
    private final JdbcTemplate template;
    private final TransactionTemplate tx;
    private final Notifier workersNotifier;

    @Autowired
    public CrawlQueries(JdbcClient jdbc, JdbcTemplate template, TransactionTemplate tx,
            @Qualifier(DbConfiguration.JOBS_NOTIFIER) Notifier workersNotifier) {
        this.jdbc = jdbc;
        this.template = template;
        this.tx = tx;
        this.workersNotifier = workersNotifier;
    }

    /** For workers: reads settings and enqueues links, inside their completer's transaction. */
    public CrawlQueries(JdbcTemplate template) {
        this(JdbcClient.create(template), template,
                new TransactionTemplate(new DataSourceTransactionManager(template.getDataSource())),
                new Notifier(template, JobQueries.NOTIFY_CHANNEL, java.time.Duration.ofMillis(100)));
    }

    /** Tells the workers that jobs were enqueued (after the enqueuing transaction committed). */
    public void announce() {
        workersNotifier.announce();
    }

    /** What a crawl's pages are fetched with and its links checked against. */
    public record Settings(long id, String tenant, String scope, List<String> scopeKeys, List<String> include,
            List<String> exclude, int maxDepth, boolean robots, boolean sitemaps, boolean cancelled) {
    }

    /** A crawl to create: its settings, the request of every page, and its seeds. */
    public record NewCrawl(String scope, List<String> scopeKeys, List<String> include, List<String> exclude,
            int maxDepth, int maxPages, Integer maxPagesPerHost, boolean sitemaps, boolean robots, String headersJson,
            int priority, int maxAttempts, int timeoutMs, int maxBodyBytes, boolean storeBody, boolean followRedirects,
            List<String> extract, String metadataJson, List<CrawlLink> seeds) {
    }

    /** A crawl as the API shows it. */
    public record CrawlRow(long id, String tenant, long batchId, String state, boolean done, String scope,
            List<String> include, List<String> exclude, int maxDepth, int maxPages, Integer maxPagesPerHost,
            boolean sitemaps, boolean robots, long discovered, long enqueued, long fetched, long failed, long queued,
            long running, long skippedScope, long skippedRobots, long skippedDuplicate, long skippedLimit,
            long skippedNofollow, OffsetDateTime createdAt, OffsetDateTime finishedAt) {
    }

    private static final String SELECT_CRAWLS = """
            SELECT c.id, c.tenant, c.batch_id, v.state, v.done, c.scope, c.include, c.exclude, c.max_depth, c.max_pages,
                   c.max_pages_per_host, c.sitemaps, c.robots, c.discovered, c.enqueued, v.fetched, v.failed, v.queued,
                   v.running, c.skipped_scope, c.skipped_robots, c.skipped_duplicate, c.skipped_limit, c.skipped_nofollow,
                   c.created_at, v.finished_at
            FROM fetchq.crawl c
            JOIN fetchq.crawls v ON v.crawl_id = c.id""";

    /**
     * Creates a crawl of {@code tenant}: its batch, its row and its seeds' jobs, in one transaction.
     *
     * @param seeds links with crawl id 0 (set here), depth 0 and no page
     */
    public CrawlRow create(String tenant, NewCrawl crawl) {
        CrawlRow created = tx.execute(status -> {
            long batchId = jdbc.sql("INSERT INTO fetchq.batch (tenant, total) VALUES (:tenant, 0) RETURNING id")
                    .param("tenant", tenant).query(Long.class).single();
            long id = jdbc.sql("""
                    INSERT INTO fetchq.crawl (tenant, batch_id, scope, scope_keys, include, exclude, max_depth, max_pages,
                                              max_pages_per_host, sitemaps, robots, headers, priority, max_attempts,
                                              timeout_ms, max_body_bytes, store_body, follow_redirects, extract, metadata)
                    VALUES (:tenant, :batch, :scope, string_to_array(:keys, chr(1)), string_to_array(:include, chr(1)),
                            string_to_array(:exclude, chr(1)), :depth, :pages, :perHost, :sitemaps, :robots,
                            :headers::jsonb, :priority, :attempts, :timeout, :maxBody, :storeBody, :follow,
                            string_to_array(:extract, ','), :metadata::jsonb)
                    RETURNING id""")
                    .param("tenant", tenant).param("batch", batchId).param("scope", crawl.scope())
                    .param("keys", joined(crawl.scopeKeys())).param("include", joined(crawl.include()))
                    .param("exclude", joined(crawl.exclude())).param("depth", crawl.maxDepth())
                    .param("pages", crawl.maxPages()).param("perHost", crawl.maxPagesPerHost())
                    .param("sitemaps", crawl.sitemaps()).param("robots", crawl.robots())
                    .param("headers", crawl.headersJson()).param("priority", crawl.priority())
                    .param("attempts", (short) crawl.maxAttempts()).param("timeout", crawl.timeoutMs())
                    .param("maxBody", crawl.maxBodyBytes()).param("storeBody", crawl.storeBody())
                    .param("follow", crawl.followRedirects()).param("extract", String.join(",", crawl.extract()))
                    .param("metadata", crawl.metadataJson())
                    .query(Long.class).single();
            List<CrawlLink> seeds = crawl.seeds().stream()
                    .map(s -> new CrawlLink(id, null, 0, s.url(), s.key(), s.host(), null)).toList();
            lockCrawls(List.of(id));
            enqueue(seeds);
            return find(id, tenant).orElseThrow();
        });
        workersNotifier.announce();
        return created;
    }

    /** Empty arrays become '{}' through string_to_array(''): the unit separator cannot occur in a URL or regex we keep. */
    private static String joined(List<String> values) {
        return String.join("\u0001", values);
    }

    /** Locks the crawls' rows in id order, for {@link #enqueue} in the same transaction. */
    public void lockCrawls(Collection<Long> crawlIds) {
        if (crawlIds.isEmpty()) {
            return;
        }
        jdbc.sql("SELECT id FROM fetchq.crawl WHERE id IN (:ids) ORDER BY id FOR NO KEY UPDATE")
                .param("ids", crawlIds.stream().distinct().sorted().toList()).query(Long.class).list();
    }

    /**
     * Enqueues links (see {@link #ENQUEUE}) in the caller's transaction, which must hold their crawls'
     * locks ({@link #lockCrawls}).
     *
     * @return jobs enqueued
     */
    public long enqueue(List<CrawlLink> links) {
        if (links.isEmpty()) {
            return 0;
        }
        return template.execute((Connection c) -> {
            try (PreparedStatement ps = c.prepareStatement(ENQUEUE)) {
                ps.setArray(1, SqlArrays.array(c, "int8", links, CrawlLink::crawlId, Long[]::new));
                ps.setArray(2, SqlArrays.array(c, "int8", links, CrawlLink::fromJobId, Long[]::new));
                ps.setArray(3, SqlArrays.array(c, "int4", links, CrawlLink::depth, Integer[]::new));
                ps.setArray(4, SqlArrays.array(c, "text", links, CrawlLink::url, String[]::new));
                ps.setArray(5, SqlArrays.array(c, "bytea", links, CrawlLink::key, byte[][]::new));
                ps.setArray(6, SqlArrays.array(c, "text", links, CrawlLink::host, String[]::new));
                ps.setArray(7, SqlArrays.array(c, "text", links, CrawlLink::skipped, String[]::new));
                ps.setArray(8, SqlArrays.array(c, "bool", links, CrawlLink::sitemap, Boolean[]::new));
                ps.setInt(9, MAX_SITEMAPS);
                ps.setInt(10, MAX_SITEMAP_BYTES);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** The settings of a crawl, for a worker reading its pages' links; empty when it is gone. */
    public Optional<Settings> settings(long id) {
        return jdbc.sql("""
                SELECT id, tenant, scope, scope_keys, include, exclude, max_depth, robots, sitemaps, cancelled
                FROM fetchq.crawl WHERE id = :id""")
                .param("id", id)
                .query((rs, n) -> new Settings(rs.getLong("id"), rs.getString("tenant"), rs.getString("scope"),
                        strings(rs, "scope_keys"), strings(rs, "include"), strings(rs, "exclude"),
                        rs.getInt("max_depth"), rs.getBoolean("robots"), rs.getBoolean("sitemaps"),
                        rs.getBoolean("cancelled")))
                .optional();
    }

    public Optional<CrawlRow> find(long id, String tenant) {
        return Tenants.bind(jdbc.sql(SELECT_CRAWLS + " WHERE c.id = :id" + Tenants.condition("c", tenant))
                .param("id", id), tenant).query(CrawlQueries::row).optional();
    }

    /** A tenant's crawls (every tenant's for null), newest first, before {@code beforeId}. */
    public List<CrawlRow> list(long beforeId, int limit, String tenant) {
        return Tenants.bind(jdbc.sql(SELECT_CRAWLS + " WHERE c.id < :before" + Tenants.condition("c", tenant)
                + " ORDER BY c.id DESC LIMIT :limit").param("before", beforeId).param("limit", limit), tenant)
                .query(CrawlQueries::row).list();
    }

    /**
     * Cancels a crawl: no more links are enqueued, and its batch is cancelled (queued pages now,
     * running ones at their next step).
     *
     * @return the crawl after the request, or empty when there is no such crawl of {@code tenant}
     */
    public Optional<CrawlRow> cancel(long id, String tenant, BatchQueries batches) {
        Optional<CrawlRow> crawl = find(id, tenant);
        if (crawl.isEmpty()) {
            return crawl;
        }
        tx.executeWithoutResult(status -> {
            lockCrawls(List.of(id));
            jdbc.sql("UPDATE fetchq.crawl SET cancelled = true WHERE id = :id").param("id", id).update();
        });
        batches.cancel(crawl.get().batchId(), tenant);
        return find(id, tenant);
    }

    private static CrawlRow row(ResultSet rs, int n) throws SQLException {
        return new CrawlRow(rs.getLong("id"), rs.getString("tenant"), rs.getLong("batch_id"), rs.getString("state"),
                rs.getBoolean("done"), rs.getString("scope"), strings(rs, "include"), strings(rs, "exclude"),
                rs.getInt("max_depth"), rs.getInt("max_pages"), rs.getObject("max_pages_per_host", Integer.class),
                rs.getBoolean("sitemaps"), rs.getBoolean("robots"), rs.getLong("discovered"), rs.getLong("enqueued"),
                rs.getLong("fetched"), rs.getLong("failed"), rs.getLong("queued"), rs.getLong("running"),
                rs.getLong("skipped_scope"), rs.getLong("skipped_robots"), rs.getLong("skipped_duplicate"),
                rs.getLong("skipped_limit"), rs.getLong("skipped_nofollow"),
                rs.getObject("created_at", OffsetDateTime.class), rs.getObject("finished_at", OffsetDateTime.class));
    }

    private static List<String> strings(ResultSet rs, String column) throws SQLException {
        java.sql.Array array = rs.getArray(column);
        return array == null ? List.of() : new ArrayList<>(Arrays.asList((String[]) array.getArray()));
    }
}
