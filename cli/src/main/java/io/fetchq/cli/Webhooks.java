package io.fetchq.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

/** {@code fetchq webhooks create|list|deliveries}: where fetchq sends signed events, and what it sent. */
@Command(name = "webhooks", mixinStandardHelpOptions = true,
        description = "Create and list webhook endpoints, and show an endpoint's deliveries.",
        subcommands = {Webhooks.Create.class, Webhooks.ListWebhooks.class, Webhooks.Deliveries.class})
final class Webhooks {

    @CommandLine.ParentCommand
    Fetchq root;

    abstract static class WebhookCommand extends Fetchq.Calling {
        @CommandLine.ParentCommand
        Webhooks webhooks;

        @Override
        Fetchq root() {
            return webhooks.root;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create an endpoint; prints its id, and its signing secret (shown this once) on stderr.")
    static final class Create extends WebhookCommand {
        @Parameters(paramLabel = "URL", description = "where to POST the events")
        String url;
        @Option(names = "--event", required = true, split = ",",
                description = "batch.completed, job.failed, job.changed, schedule.run_completed (repeat or comma-separate)")
        List<String> events = new ArrayList<>();
        @Option(names = "--description", description = "what the endpoint is for")
        String description;

        @Override
        public Integer call() {
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("url", url);
            request.put("events", events);
            if (description != null) {
                request.put("description", description);
            }
            JsonNode created = api().post("/api/v1/webhooks", "application/json", Api.JSON.writeValueAsBytes(request));
            out().println(created.path("id").asLong());
            err().printf("webhook %d: signing secret %s (keep it now: it is never shown again)%n",
                    created.path("id").asLong(), created.path("secret").asString());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Every endpoint: id, URL, events, state.")
    static final class ListWebhooks extends WebhookCommand {
        @Override
        public Integer call() {
            eachListed("/api/v1/webhooks", w -> {
                List<String> events = new ArrayList<>();
                w.path("events").forEach(e -> events.add(e.asString()));
                out().printf("%d\t%s\t%s\t%s%n", w.path("id").asLong(), w.path("url").asString(), String.join(",", events),
                        w.path("disabled").asBoolean() ? "disabled: " + w.path("disabled_reason").asString() : "enabled");
            });
            return 0;
        }
    }

    @Command(name = "deliveries", mixinStandardHelpOptions = true,
            description = "An endpoint's latest deliveries, newest first: id, event, state, attempts, last answer.")
    static final class Deliveries extends WebhookCommand {
        @Parameters(paramLabel = "ID", description = "the endpoint's id")
        long id;
        @Option(names = "--limit", description = "deliveries to show (default 20, at most 1000)")
        int limit = 20;

        @Override
        public Integer call() {
            JsonNode page = api().get("/api/v1/webhooks/" + id + "/deliveries?limit=" + limit);
            for (JsonNode d : page) {
                JsonNode attempts = d.path("attempts");
                JsonNode last = attempts.isEmpty() ? null : attempts.get(attempts.size() - 1);
                String answer = last == null ? "-" : !last.path("status_code").isNull()
                        ? "HTTP " + last.path("status_code").asInt() : last.path("error").asString();
                out().printf("%d\t%s evt_%d\t%s\t%d attempts\t%s%n", d.path("id").asLong(),
                        d.path("event_type").asString(), d.path("event_id").asLong(), d.path("state").asString(),
                        attempts.size(), answer);
            }
            return 0;
        }
    }
}
