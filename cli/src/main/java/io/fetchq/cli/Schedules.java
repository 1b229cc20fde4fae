package io.fetchq.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

/** {@code fetchq schedules create|list|pause|resume|run}: recurring runs of the same URLs. */
@Command(name = "schedules", mixinStandardHelpOptions = true,
        description = "Create, list, pause, resume and run schedules: the same URLs fetched again and again.",
        subcommands = {Schedules.Create.class, Schedules.ListSchedules.class, Schedules.Pause.class,
            Schedules.Resume.class, Schedules.RunNow.class})
final class Schedules {

    @CommandLine.ParentCommand
    Fetchq root;

    abstract static class ScheduleCommand extends Fetchq.Calling {
        @CommandLine.ParentCommand
        Schedules schedules;

        @Override
        Fetchq root() {
            return schedules.root;
        }
    }

    /** When: exactly one of the two. */
    static final class When {
        @Option(names = "--cron", required = true, description = "5 fields: minute hour day-of-month month day-of-week")
        String cron;
        @Option(names = "--every", required = true, description = "an ISO-8601 duration, e.g. PT15M (at least PT1S)")
        String every;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a schedule of the given URLs (and/or a file of them, one per line; # comments).")
    static final class Create extends ScheduleCommand {
        @Option(names = "--name", required = true, description = "what the schedule is for")
        String name;
        @ArgGroup(exclusive = true, multiplicity = "1")
        When when;
        @Option(names = "--time-zone", description = "IANA time zone of the cron (default UTC)")
        String timeZone;
        @Option(names = "--catch-up", description = "after downtime: skip (default), one or all")
        String catchUp;
        @Option(names = "--paused", description = "create it paused")
        boolean paused;
        @Option(names = "--file", description = "a file of URLs, one per line")
        Path file;
        @Parameters(paramLabel = "URL", arity = "0..*", description = "URLs to fetch at each run")
        List<String> urls = new ArrayList<>();
        @ArgGroup(exclusive = false, heading = "Job options (every run's jobs):%n")
        Fetchq.JobOptions jobOptions = new Fetchq.JobOptions();

        @Override
        public Integer call() throws IOException {
            List<String> all = new ArrayList<>(urls);
            if (file != null) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String url = line.strip();
                    if (!url.isEmpty() && !url.startsWith("#")) {
                        all.add(url);
                    }
                }
            }
            if (all.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give URLs or --file");
            }
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("name", name);
            if (when.cron != null) {
                request.put("cron", when.cron);
            } else {
                request.put("every", when.every);
            }
            if (timeZone != null) {
                request.put("time_zone", timeZone);
            }
            if (catchUp != null) {
                request.put("catch_up", catchUp);
            }
            if (paused) {
                request.put("paused", true);
            }
            Map<String, Object> defaults = (jobOptions == null ? new Fetchq.JobOptions() : jobOptions).defaults();
            if (!defaults.isEmpty()) {
                request.put("defaults", defaults);
            }
            request.put("urls", all);
            JsonNode created = api().post("/api/v1/schedules", "application/json", Api.JSON.writeValueAsBytes(request));
            out().println(created.path("id").asLong());
            err().printf("schedule %d: %d URLs, next run %s%n", created.path("id").asLong(),
                    created.path("job_count").asInt(), created.path("next_run_at").isNull() ? "none (paused)"
                            : created.path("next_run_at").asString());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Every schedule: id, name, when, time zone, state, next run, last batch.")
    static final class ListSchedules extends ScheduleCommand {
        @Override
        public Integer call() {
            eachListed("/api/v1/schedules", s -> out().printf("%d\t%s\t%s\t%s\t%s\t%s\t%s%n", s.path("id").asLong(),
                    s.path("name").asString(),
                    s.path("cron").isNull() ? "every " + s.path("every").asString() : s.path("cron").asString(),
                    s.path("time_zone").asString(), s.path("paused").asBoolean() ? "paused" : "active",
                    s.path("next_run_at").isNull() ? "-" : s.path("next_run_at").asString(),
                    s.path("last_batch_id").isNull() ? "-" : "batch " + s.path("last_batch_id").asLong()));
            return 0;
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a schedule: it skips what it misses.")
    static final class Pause extends ScheduleCommand {
        @Parameters(paramLabel = "ID", description = "the schedule's id")
        long id;

        @Override
        public Integer call() {
            api().post("/api/v1/schedules/" + id + "/pause", "application/json", new byte[0]);
            out().printf("schedule %d paused%n", id);
            return 0;
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a schedule from its next time.")
    static final class Resume extends ScheduleCommand {
        @Parameters(paramLabel = "ID", description = "the schedule's id")
        long id;

        @Override
        public Integer call() {
            JsonNode s = api().post("/api/v1/schedules/" + id + "/resume", "application/json", new byte[0]);
            out().printf("schedule %d resumed, next run %s%n", id, s.path("next_run_at").asString());
            return 0;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run a schedule once now; prints the batch id.")
    static final class RunNow extends ScheduleCommand {
        @Parameters(paramLabel = "ID", description = "the schedule's id")
        long id;

        @Override
        public Integer call() {
            JsonNode batch = api().post("/api/v1/schedules/" + id + "/run", "application/json", new byte[0]);
            out().println(batch.path("id").asLong());
            return 0;
        }
    }
}
