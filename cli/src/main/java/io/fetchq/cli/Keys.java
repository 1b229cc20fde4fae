package io.fetchq.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

/** {@code fetchq keys create|list|revoke}: API keys, with an admin key. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Create, list and revoke API keys (admin key).",
        subcommands = {Keys.Create.class, Keys.ListKeys.class, Keys.Revoke.class})
final class Keys {

    @CommandLine.ParentCommand
    Fetchq root;

    abstract static class KeyCommand extends Fetchq.Calling {
        @CommandLine.ParentCommand
        Keys keys;

        @Override
        Fetchq root() {
            return keys.root;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a key and print it: the only time it is shown.")
    static final class Create extends KeyCommand {
        @Option(names = "--tenant", required = true, description = "whose jobs the key submits and sees")
        String tenant;
        @Option(names = "--scope", required = true, split = ",", description = "submit, read, admin (repeatable)")
        List<String> scopes;
        @Option(names = "--name", description = "what the key is for")
        String name;

        @Override
        public Integer call() {
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("tenant", tenant);
            request.put("scopes", scopes);
            if (name != null) {
                request.put("name", name);
            }
            JsonNode created = api().post("/api/v1/keys", "application/json", Api.JSON.writeValueAsBytes(request));
            out().println(created.path("key").asString());
            err().printf("key %d for tenant %s (%s): keep it now, it is not shown again%n",
                    created.path("id").asLong(), created.path("tenant").asString(),
                    String.join(",", created.path("scopes").valueStream().map(JsonNode::asString).toList()));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every key: id, prefix, tenant, scopes, state.")
    static final class ListKeys extends KeyCommand {
        @Override
        public Integer call() {
            for (JsonNode k : api().get("/api/v1/keys").path("keys")) {
                out().printf("%d\t%s…\t%s\t%s\t%s\t%s%n", k.path("id").asLong(), k.path("prefix").asString(),
                        k.path("tenant").asString(),
                        String.join(",", k.path("scopes").valueStream().map(JsonNode::asString).toList()),
                        k.path("revoked_at").isNull() ? "active" : "revoked " + k.path("revoked_at").asString(),
                        k.path("name").isNull() ? "" : k.path("name").asString());
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a key by its id.")
    static final class Revoke extends KeyCommand {
        @Parameters(paramLabel = "ID", description = "the key's id (see keys list)")
        long id;

        @Override
        public Integer call() {
            JsonNode revoked = api().post("/api/v1/keys/" + id + "/revoke", "application/json", new byte[0]);
            out().printf("key %d revoked at %s%n", revoked.path("id").asLong(), revoked.path("revoked_at").asString());
            return 0;
        }
    }
}
