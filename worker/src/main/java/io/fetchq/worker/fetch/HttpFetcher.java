package io.fetchq.worker.fetch;

import io.fetchq.db.ClaimedJob;
import io.fetchq.url.FetchProperties;
import io.fetchq.url.SecretHeaders;
import io.fetchq.url.UrlCheck;
import io.fetchq.url.UrlPolicy;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.Proxy;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import okhttp3.Call;
import okhttp3.Dns;
import okhttp3.EventListener;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;

/**
 * Makes one attempt at a job: one shared OkHttp client, redirects followed here (each hop judged
 * by the URL policy, its addresses by {@link GuardedDns}, the chain recorded), the whole attempt
 * bounded by the job's {@code timeout_ms} ({@link CallDeadlines}), and the body read as a stream
 * up to the job's cap.
 *
 * <p>OkHttp's own retries and redirects are off: every request it makes is one we count.
 */
public final class HttpFetcher implements Fetcher {

    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
    static final String CANCELLED = "cancelled: the worker stopped before the response arrived";
    /**
     * Methods sent again on a fresh connection when a pooled one turns out closed: a server that
     * closed the connection has not seen the request, and if it somehow had, these change nothing.
     */
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

    /**
     * Connection pools per client: OkHttp finds a pooled connection by scanning its pool, so one pool
     * of hundreds of connections makes every call pay for all of them. Jobs are spread over several
     * pools (variants of one client, sharing everything else).
     */
    static final int POOL_SHARDS = 8;

    /** How long an idle connection is kept for the next request to its host (as servers commonly keep theirs). */
    static final Duration KEEP_ALIVE = Duration.ofSeconds(30);

    private final OkHttpClient[] clients;
    /**
     * OkHttp's own call timeout, this long past the job's deadline: a backstop should the watchdog
     * of {@link CallDeadlines} ever fail to end a call.
     */
    static final Duration CALL_TIMEOUT_BACKSTOP = Duration.ofSeconds(1);

    final CallDeadlines deadlines;
    private final BodyBudget budget;
    private final UrlPolicy policy;
    private final FetchProperties properties;
    private final Clock clock;
    /** Headers a redirect must not carry to another origin. */
    private final SecretHeaders secrets;

    public HttpFetcher(UrlPolicy policy, FetchProperties properties, int maxInFlight) {
        this(policy, properties, maxInFlight, Dns.SYSTEM);
    }

    /** With a given resolver underneath the guard: tests point host names at loopback. */
    public HttpFetcher(UrlPolicy policy, FetchProperties properties, int maxInFlight, Dns resolver) {
        this(policy, properties, maxInFlight, resolver, Clock.systemUTC());
    }

    /** As above, reading a {@code Retry-After} date against {@code clock}. */
    public HttpFetcher(UrlPolicy policy, FetchProperties properties, int maxInFlight, Dns resolver, Clock clock) {
        this(policy, properties, maxInFlight, resolver, clock, BodyBudget.unlimited(), "fetcher", () -> { });
    }

    /**
     * As above, reading bodies within {@code budget}, for worker {@code workerId}, telling
     * {@code watchdogFailed} of every failed pass of the timeout watchdog ({@link CallDeadlines}).
     */
    public HttpFetcher(UrlPolicy policy, FetchProperties properties, int maxInFlight, Dns resolver, Clock clock,
            BodyBudget budget, String workerId, Runnable watchdogFailed) {
        this.deadlines = new CallDeadlines(workerId, watchdogFailed);
        this.budget = budget;
        this.clock = clock;
        this.policy = policy;
        this.properties = properties;
        this.secrets = SecretHeaders.of(properties.secretHeaders());
        OkHttpClient client = new OkHttpClient.Builder()
                .followRedirects(false)
                .followSslRedirects(false)
                .retryOnConnectionFailure(false)
                .proxy(Proxy.NO_PROXY)
                .dns(new GuardedDns(policy, resolver))
                .connectTimeout(properties.connectTimeout())
                // Read and write silence is watched by CallDeadlines (okio's timeouts take a
                // process-wide lock on every socket read and write).
                .readTimeout(Duration.ZERO)
                .writeTimeout(Duration.ZERO)
                // Enough idle connections for a worker's fan-out (the default of 5 reconnects
                // constantly), kept no longer than servers commonly keep theirs.
                .connectionPool(LazyPoolCleanup.pool(Math.max(5, maxInFlight), KEEP_ALIVE))
                // Each fetch passes its own listener as a request tag, to sum timings over its redirect hops.
                .eventListenerFactory(call -> {
                    TimingListener listener = call.request().tag(TimingListener.class);
                    return listener != null ? listener : EventListener.NONE;
                })
                .addInterceptor(Decompression.interceptor())
                .build();
        this.clients = new OkHttpClient[POOL_SHARDS];
        int idlePerShard = Math.max(5, maxInFlight / POOL_SHARDS);
        for (int i = 0; i < POOL_SHARDS; i++) {
            clients[i] = client.newBuilder()
                    .connectionPool(LazyPoolCleanup.pool(idlePerShard, KEEP_ALIVE))
                    .build();
        }
    }

    @Override
    public void close() {
        deadlines.close();
        clients[0].dispatcher().executorService().shutdown();
        for (OkHttpClient client : clients) {
            client.connectionPool().evictAll();
        }
    }

    @Override
    public FetchOutcome fetch(ClaimedJob job, FetchCancellation cancellation) {
        return fetch(job, cancellation, properties.maxRedirects());
    }

    @Override
    public UrlPolicy policy() {
        return policy;
    }

    @Override
    public String userAgent() {
        return properties.userAgent();
    }

    @Override
    public FetchOutcome fetch(ClaimedJob job, FetchCancellation cancellation, int maxRedirects) {
        long started = System.nanoTime();
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(job.timeoutMs());
        List<FetchOutcome.Redirect> chain = new ArrayList<>();
        TimingListener timings = new TimingListener();
        HttpUrl url = HttpUrl.parse(job.url());
        String method = job.method();
        byte[] body = job.body();
        Map<String, String> headers = Json.headers(job.headersJson());
        addValidators(headers, job.validators());
        int hops = 0;
        boolean retriedStale = false;
        OkHttpClient client = clients[(int) Math.floorMod(job.jobId(), (long) POOL_SHARDS)];
        while (true) {
            if (url == null) {
                return failure(ErrorKind.PROTOCOL, "redirect to an invalid URL", chain, timings, started);
            }
            UrlCheck check = policy.check(url.toString());
            if (!check.allowed()) {
                return failure(ErrorKind.BLOCKED, check.reason(), chain, timings, started);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return failure(ErrorKind.TIMEOUT, "timed out after " + job.timeoutMs() + " ms", chain, timings, started);
            }
            Call call;
            try {
                call = client.newCall(request(check.url(), method, headers, body, timings));
            } catch (IllegalArgumentException e) {
                // A header OkHttp will not send (e.g. non-ASCII value): nothing was sent.
                return failure(ErrorKind.PROTOCOL, message(e), chain, timings, started);
            }
            call.timeout().timeout(left + CALL_TIMEOUT_BACKSTOP.toNanos(), TimeUnit.NANOSECONDS);
            cancellation.onCancel(call::cancel);
            if (cancellation.cancelled()) {
                return failure(ErrorKind.CANCELLED, CANCELLED, chain, timings, started);
            }
            CallDeadlines.Watch watch = deadlines.watch(call, deadline, properties.readTimeout().toNanos());
            timings.watchedBy(watch);
            try (Response response = call.execute()) {
                long ttfb = System.nanoTime() - started;
                int status = response.code();
                String location = response.header("Location");
                if (job.followRedirects() && REDIRECTS.contains(status) && location != null) {
                    chain.add(new FetchOutcome.Redirect(url.toString(), status));
                    if (++hops > maxRedirects) {
                        return failure(ErrorKind.TOO_MANY_REDIRECTS,
                                "more than " + maxRedirects + " redirects", chain, timings, started);
                    }
                    HttpUrl next = url.resolve(location);
                    if (next != null && !(next.scheme().equals(url.scheme()) && next.host().equals(url.host())
                            && next.port() == url.port())) {
                        // Another origin (even the same host over plain http): credentials stay behind.
                        headers.keySet().removeIf(secrets::staysWithOrigin);
                    }
                    if (status == 303 || ((status == 301 || status == 302) && method.equals("POST"))) {
                        method = method.equals("HEAD") ? "HEAD" : "GET";
                        body = null;
                    }
                    url = next;
                    continue;
                }
                return read(response, job.maxBodyBytes(), chain, timings, watch, started, ttfb);
            } catch (IOException e) {
                if (!retriedStale && SAFE_METHODS.contains(method) && timings.failedOnStaleConnection()
                        && !(e instanceof InterruptedIOException)) {
                    // OkHttp's own retry is off (it would hide attempts from us), so do the one retry
                    // it is right about: a keep-alive connection the server had already closed. Its
                    // idle siblings are likely closed too: drop them so the retry dials afresh.
                    retriedStale = true;
                    client.connectionPool().evictAll();
                    continue;
                }
                if (cancellation.cancelled()) {
                    return failure(ErrorKind.CANCELLED, CANCELLED, chain, timings, started);
                }
                if (watch.expired || System.nanoTime() - deadline >= 0) {
                    return failure(ErrorKind.TIMEOUT, watch.silent
                            ? "read timed out: nothing received for " + properties.readTimeout().toMillis() + " ms"
                            : "timed out after " + job.timeoutMs() + " ms", chain, timings, started);
                }
                return failure(classify(e), message(e), chain, timings, started);
            } catch (RuntimeException e) {
                return failure(classify(e), message(e), chain, timings, started);
            } finally {
                deadlines.release(watch);
            }
        }
    }

    /**
     * A conditional GET's validators as request headers: {@code If-None-Match} when there is an
     * ETag, else {@code If-Modified-Since}. A job's own header of either name is left as it is.
     */
    static void addValidators(Map<String, String> headers, ClaimedJob.Validators validators) {
        if (validators == null || headers.keySet().stream().anyMatch(
                h -> h.equalsIgnoreCase("If-None-Match") || h.equalsIgnoreCase("If-Modified-Since"))) {
            return;
        }
        if (validators.etag() != null) {
            headers.put("If-None-Match", validators.etag());
        } else if (validators.lastModified() != null) {
            headers.put("If-Modified-Since", HTTP_DATE.format(validators.lastModified()));
        }
    }

    /** IMF-fixdate (RFC 9110, 5.6.7): the form in which HTTP dates are sent. */
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    /** Longest ETag kept: a validator, not a place for data. */
    static final int MAX_ETAG_LENGTH = 1024;

    /**
     * The ETag as it can be sent back in {@code If-None-Match}: visible ASCII and spaces only (what
     * a request header may carry), at most {@link #MAX_ETAG_LENGTH} characters; else null.
     */
    static String etag(String value) {
        if (value == null || value.isEmpty() || value.length() > MAX_ETAG_LENGTH) {
            return null;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return null;
            }
        }
        return value;
    }

    private Request request(HttpUrl url, String method, Map<String, String> headers, byte[] body,
            TimingListener timings) {
        Request.Builder request = new Request.Builder()
                .url(url)
                .tag(TimingListener.class, timings)
                .header("User-Agent", properties.userAgent());
        headers.forEach(request::header);
        RequestBody requestBody = null;
        if (body != null) {
            String type = headers.entrySet().stream()
                    .filter(h -> h.getKey().equalsIgnoreCase("Content-Type"))
                    .map(Map.Entry::getValue)
                    .findFirst()
                    .orElse(null);
            requestBody = RequestBody.create(body, type == null ? null : MediaType.parse(type));
        } else if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
            requestBody = RequestBody.create(new byte[0], null);
        }
        return request.method(method, requestBody).build();
    }

    /**
     * Reads the body up to {@code cap} decoded bytes; one more byte means truncated. A body beyond
     * {@link BodyBudget#UNRESERVED} bytes is read once its memory is reserved: its announced length
     * (up to the cap), read straight into an array of that size; or, with no length announced, twice
     * the cap, for the segments it is read into and the array they end up in, the rest given back
     * once its size is known.
     */
    private FetchOutcome read(Response response, int cap, List<FetchOutcome.Redirect> chain,
            TimingListener timings, CallDeadlines.Watch watch, long started, long ttfbNanos) throws IOException {
        ResponseBody body = response.body();
        BufferedSource source = body.source();
        long announced = body.contentLength();
        BodyBudget.Reservation memory = budget.none();
        byte[] bytes;
        boolean truncated;
        try {
            if (announced >= 0) {
                int keep = (int) Math.min(announced, cap);
                if (keep > BodyBudget.UNRESERVED) {
                    memory = reserve(keep, watch);
                }
                bytes = new byte[keep];
                int read = 0;
                while (read < keep) {
                    int n = source.read(bytes, read, keep - read);
                    if (n == -1) {
                        break;
                    }
                    read += n;
                    watch.progress();
                }
                if (read < keep) {
                    bytes = Arrays.copyOf(bytes, read);
                }
                truncated = announced > cap;
            } else {
                Buffer buffer = new Buffer();
                while (buffer.size() <= cap) {
                    if (memory == budget.none() && buffer.size() > BodyBudget.UNRESERVED) {
                        memory = reserve(2L * cap, watch);
                    }
                    if (source.read(buffer, Math.min(SEGMENT, cap + 1 - buffer.size())) == -1) {
                        break;
                    }
                    watch.progress();
                }
                truncated = buffer.size() > cap;
                bytes = buffer.readByteArray(Math.min(buffer.size(), cap));
                buffer.clear();
            }
            memory.shrinkTo(bytes.length);
        } catch (IOException | RuntimeException e) {
            memory.release();
            throw e;
        }
        MediaType type = body.contentType();
        return new FetchOutcome.Response(response.code(), type == null ? response.header("Content-Type") : type.toString(),
                bytes, truncated, response.request().url().toString(),
                retryAfterMs(response.header("Retry-After"), clock), List.copyOf(chain),
                timings(timings, started, ttfbNanos), memory, etag(response.header("ETag")),
                httpDate(response.header("Last-Modified")), robotsTag(response.headers("X-Robots-Tag")));
    }

    private static String robotsTag(List<String> values) {
        return values.isEmpty() ? null : String.join("\n", values);
    }

    /** Bytes read from the socket at a time, when the body's length is not announced. */
    private static final int SEGMENT = 8192;

    /** Reserves body memory, the wait not counted as the server's silence. */
    private BodyBudget.Reservation reserve(long bytes, CallDeadlines.Watch watch) throws IOException {
        watch.waiting(true);
        try {
            return budget.reserve(bytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("stopped while waiting for body memory");
        } finally {
            watch.waiting(false);
        }
    }

    /** {@code Retry-After} as seconds or an HTTP date, in milliseconds from now; null if absent or unreadable. */
    public static Long retryAfterMs(String value, Clock clock) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.strip();
        if (!v.isEmpty() && v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            // Seconds. Whatever is too long to multiply out is "very long" (the policy caps it).
            return v.length() > MAX_SECONDS_DIGITS ? Long.MAX_VALUE : Long.parseLong(v) * 1000;
        }
        Instant at = httpDate(v);
        return at == null ? null : Math.max(0, Duration.between(clock.instant(), at).toMillis());
    }

    /**
     * An HTTP date (IMF-fixdate, RFC 9110 5.6.7), or null. java.time's formatter, shared: OkHttp's
     * own date parsing keeps a {@code SimpleDateFormat} per thread, and every fetch runs on a new
     * virtual thread, so it would build one per response (measured at a fifth of a worker's CPU).
     */
    static Instant httpDate(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException notADate) {
            return null;
        }
    }

    /** Longest {@code Retry-After} in seconds read as a number: beyond it, seconds × 1,000 could overflow. */
    private static final int MAX_SECONDS_DIGITS = 15;

    /**
     * The one place that decides what an exception means. Order matters: a blocked address is an
     * {@link UnknownHostException}, and a connect timeout is a {@link SocketTimeoutException}.
     */
    static ErrorKind classify(Throwable e) {
        if (e instanceof BlockedAddressException) {
            return ErrorKind.BLOCKED; // refused by policy: never retried
        }
        if (e instanceof UnknownHostException) {
            return ErrorKind.DNS;
        }
        if (e instanceof SocketTimeoutException || (e instanceof InterruptedIOException && "timeout".equals(e.getMessage()))) {
            return ErrorKind.TIMEOUT; // connect, read or whole-call timeout
        }
        if (e instanceof ConnectException || e instanceof NoRouteToHostException) {
            return ErrorKind.CONNECT;
        }
        if (e instanceof SSLException) {
            // A peer that resets during the handshake is a reset, not a certificate problem.
            return e.getMessage() != null && e.getMessage().contains("reset") ? ErrorKind.RESET : ErrorKind.TLS;
        }
        if (e instanceof SocketException || e instanceof EOFException
                || (e instanceof IOException && e.getMessage() != null
                        && (e.getMessage().contains("unexpected end of stream") || e.getMessage().contains("reset")))) {
            return ErrorKind.RESET;
        }
        return ErrorKind.PROTOCOL;
    }

    private static String message(Throwable e) {
        String text = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        return text.length() > 500 ? text.substring(0, 500) : text;
    }

    private static FetchOutcome failure(ErrorKind kind, String message, List<FetchOutcome.Redirect> chain,
            TimingListener timings, long started) {
        return new FetchOutcome.Failure(kind, message, List.copyOf(chain), timings(timings, started, -1));
    }

    private static Timings timings(TimingListener t, long started, long ttfbNanos) {
        Integer tls = millis(t.tlsNanos);
        Integer connect = t.connectNanos < 0 ? null : (int) TimeUnit.NANOSECONDS.toMillis(
                t.connectNanos - Math.max(0, t.tlsNanos));
        return new Timings(millis(t.dnsNanos), connect, tls, millis(ttfbNanos),
                (int) TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), t.remoteIp);
    }

    private static Integer millis(long nanos) {
        return nanos < 0 ? null : (int) TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
