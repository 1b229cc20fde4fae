package io.fetchq.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * The {@code fetchq} command: the REST API from a shell. Exit codes: 0 done (and, for {@code get},
 * completed), 1 a job failed or was cancelled, 2 the API refused the request or cannot be reached.
 */
@Command(name = "fetchq", mixinStandardHelpOptions = true, versionProvider = Fetchq.Version.class,
        description = "Submit URLs to fetchq, follow them, export their results.",
        subcommands = {Fetchq.Submit.class, Fetchq.Status.class, Fetchq.Results.class, Fetchq.Get.class, Keys.class,
            Schedules.class, Webhooks.class, Crawl.class})
public final class Fetchq {

    static final int FAILED = 1;
    static final int REFUSED = 2;

    @Option(names = "--api", defaultValue = "${env:FETCHQ_API:-http://localhost:8080}", scope = CommandLine.ScopeType.INHERIT,
            description = "the API's address (env FETCHQ_API; default ${DEFAULT-VALUE})")
    String api;

    @Option(names = "--api-key", defaultValue = "${env:FETCHQ_API_KEY}", scope = CommandLine.ScopeType.INHERIT,
            description = "the API key to send (env FETCHQ_API_KEY; prefer the environment: arguments show in ps)")
    String apiKey;

    public static void main(String... args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command with these streams; returns its exit code. */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Fetchq());
        cli.setOut(out).setErr(err);
        cli.setExecutionExceptionHandler((e, command, parsed) -> {
            if (e instanceof Api.ApiError apiError) {
                command.getErr().println("fetchq: " + apiError.getMessage());
                return REFUSED;
            }
            throw e;
        });
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Fetchq.class.getPackage().getImplementationVersion();
            return new String[] {"fetchq " + (version == null ? "dev" : version)};
        }
    }

    /** Options every job of a submit may set, passed on as the batch's defaults. */
    static final class JobOptions {
        @Option(names = "--max-attempts", description = "attempts per job, 1-25 (default 3)")
        Integer maxAttempts;
        @Option(names = "--timeout-ms", description = "time for the whole call of one attempt")
        Integer timeoutMs;
        @Option(names = "--priority", description = "higher runs first")
        Integer priority;
        @Option(names = "--extract", split = ",", description = "title, links")
        String[] extract;
        @Option(names = "--no-store-body", description = "do not keep response bodies")
        boolean noStoreBody;
        @Option(names = "--header", description = "a request header, Name: value (repeatable)")
        String[] headers;

        /** The batch's defaults; headers in the JSON body, never in a query string (logs keep those). */
        Map<String, Object> defaults() {
            Map<String, Object> d = new LinkedHashMap<>();
            if (maxAttempts != null) {
                d.put("max_attempts", maxAttempts);
            }
            if (timeoutMs != null) {
                d.put("timeout_ms", timeoutMs);
            }
            if (priority != null) {
                d.put("priority", priority);
            }
            if (extract != null) {
                d.put("extract", List.of(extract));
            }
            if (noStoreBody) {
                d.put("store_body", false);
            }
            if (headers != null) {
                Map<String, String> h = new LinkedHashMap<>();
                for (String header : headers) {
                    int colon = header.indexOf(':');
                    if (colon <= 0) {
                        throw new CommandLine.ParameterException(new CommandLine(this),
                                "--header must be \"Name: value\"");
                    }
                    h.put(header.substring(0, colon).strip(), header.substring(colon + 1).strip());
                }
                d.put("headers", h);
            }
            return d;
        }
    }

    /** A command that calls the API with the {@code fetchq} command's options, directly under it or in a group. */
    abstract static class Calling implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        /** The {@code fetchq} command, for {@code --api} and {@code --api-key}. */
        abstract Fetchq root();

        Api api() {
            return new Api(root().api, root().apiKey);
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        /** Every item of an id-ordered listing ({@code limit} and {@code after_id} paging), page by page. */
        void eachListed(String path, java.util.function.Consumer<JsonNode> item) {
            long after = 0;
            while (true) {
                JsonNode page = api().get(path + "?limit=1000&after_id=" + after);
                for (JsonNode x : page) {
                    after = x.path("id").asLong();
                    item.accept(x);
                }
                if (page.size() < 1000) {
                    return;
                }
            }
        }
    }

    abstract static class ApiCommand extends Calling {
        @CommandLine.ParentCommand
        Fetchq root;

        @Override
        Fetchq root() {
            return root;
        }
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Submit a file of URLs (one per line; # comments; - for stdin) as one batch.")
    static final class Submit extends ApiCommand {
        @Parameters(paramLabel = "FILE", description = "the URLs, one per line")
        String file;
        @Option(names = "--wait", description = "follow the batch with a progress bar until every job is final")
        boolean waitForIt;
        @CommandLine.ArgGroup(exclusive = false, heading = "Job options (the batch's defaults):%n")
        JobOptions job = new JobOptions();

        @Override
        public Integer call() throws IOException {
            byte[] text = file.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(file));
            JobOptions options = job == null ? new JobOptions() : job;
            // Sent as a JSON batch of urls; the API's pointers (/urls/N) are told back as file lines.
            List<String> urls = new ArrayList<>();
            List<Integer> lines = new ArrayList<>();
            int number = 0;
            for (String line : new String(text, StandardCharsets.UTF_8).split("\r?\n", -1)) {
                number++;
                String url = line.strip();
                if (!url.isEmpty() && !url.startsWith("#")) {
                    urls.add(url);
                    lines.add(number);
                }
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("defaults", options.defaults());
            body.put("urls", urls);
            JsonNode batch;
            try {
                batch = api().post("/api/v1/batches", "application/json", Api.JSON.writeValueAsBytes(body));
            } catch (Api.ApiError e) {
                throw e.locate(pointer -> {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^/urls/(\\d+)$").matcher(pointer);
                    return m.matches() && Integer.parseInt(m.group(1)) < lines.size()
                            ? "line " + lines.get(Integer.parseInt(m.group(1))) : pointer;
                });
            }
            long id = batch.path("id").asLong();
            out().printf(Locale.ROOT, "batch %d: %,d jobs%n", id, batch.path("total").asLong());
            if (!waitForIt) {
                return 0;
            }
            Progress progress = new Progress(err(), batch.path("total").asLong());
            JsonNode state = batch;
            while (!state.path("done").asBoolean()) {
                state = api().get("/api/v1/batches/" + id + "?wait_ms=1000");
                progress.show(state);
            }
            progress.finish(state);
            out().println(summary(state));
            return state.path("failed").asLong() + state.path("cancelled").asLong() > 0 ? FAILED : 0;
        }
    }

    static String summary(JsonNode b) {
        return String.format(Locale.ROOT, "batch %d: %,d completed, %,d failed, %,d cancelled, %,d queued, %,d running%s",
                b.path("id").asLong(), b.path("completed").asLong(), b.path("failed").asLong(),
                b.path("cancelled").asLong(), b.path("queued").asLong(), b.path("running").asLong(),
                b.path("done").asBoolean() ? " (done)" : "");
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "A batch's progress.")
    static final class Status extends ApiCommand {
        @Parameters(paramLabel = "BATCH", description = "the batch id")
        long batch;

        @Override
        public Integer call() {
            out().println(summary(api().get("/api/v1/batches/" + batch)));
            return 0;
        }
    }

    @Command(name = "results", mixinStandardHelpOptions = true,
            description = "A batch's results, one per job, as NDJSON (default) or CSV.")
    static final class Results extends ApiCommand {
        @Parameters(paramLabel = "BATCH", description = "the batch id")
        long batch;
        @Option(names = "--csv", description = "CSV instead of NDJSON")
        boolean csv;
        @Option(names = "--state", description = "only jobs in this state")
        String state;
        @Option(names = "--fields", description = "comma-separated fields, e.g. url,status_code,title")
        String fields;

        @Override
        public Integer call() throws IOException {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("format", csv ? "csv" : "ndjson");
            if (state != null) {
                q.put("state", state);
            }
            if (fields != null) {
                q.put("fields", fields);
            }
            PrintWriter out = out();
            // One decoder over the whole stream: a character split between two reads stays whole.
            try (InputStream in = api().stream("/api/v1/batches/" + batch + "/results" + Api.query(q));
                    Reader text = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                text.transferTo(out);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Fetch one URL through fetchq, wait, and print the result.")
    static final class Get extends ApiCommand {
        @Parameters(paramLabel = "URL", description = "the URL to fetch")
        String url;
        @Option(names = "--extract", split = ",", defaultValue = "title", description = "title, links (default ${DEFAULT-VALUE})")
        String[] extract;

        @Override
        public Integer call() {
            Map<String, Object> job = new LinkedHashMap<>();
            job.put("url", url);
            job.put("extract", extract);
            JsonNode created = api().post("/api/v1/jobs", "application/json", Api.JSON.writeValueAsBytes(job));
            long id = created.path("id").asLong();
            JsonNode state = created;
            while (state.path("state").asString().equals("queued") || state.path("state").asString().equals("running")) {
                state = api().get("/api/v1/jobs/" + id + "?wait_ms=10000");
            }
            out().println(Api.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
            return state.path("state").asString().equals("completed") ? 0 : FAILED;
        }
    }

    /** A one-line progress bar on standard error, redrawn in place. */
    static final class Progress {
        private final PrintWriter err;
        private final long total;
        private final long started = System.nanoTime();

        Progress(PrintWriter err, long total) {
            this.err = err;
            this.total = total;
        }

        void show(JsonNode b) {
            long finished = b.path("completed").asLong() + b.path("failed").asLong() + b.path("cancelled").asLong();
            double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
            int width = 30;
            int filled = total == 0 ? width : (int) (width * finished / total);
            err.printf(Locale.ROOT, "\r[%s%s] %3d%% %,d/%,d  failed %,d  %,.0f/s ", "#".repeat(filled),
                    "-".repeat(width - filled), total == 0 ? 100 : 100 * finished / total, finished, total,
                    b.path("failed").asLong(), finished / seconds);
            err.flush();
        }

        void finish(JsonNode b) {
            show(b);
            err.println();
        }
    }
}
