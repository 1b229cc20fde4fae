package io.fetchq.db;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.ResultSetExtractor;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Webhook endpoints and their deliveries: what the API reads and changes, and what workers claim
 * and record. Endpoints belong to a tenant, as jobs do: {@code tenant} null reads every tenant's.
 */
@Repository
public class WebhookQueries {

    /** Every event type an endpoint can subscribe to. */
    public static final List<String> EVENT_TYPES = List.of("batch.completed", "job.failed", "job.changed",
            "schedule.run_completed");

    /** An endpoint's columns as {@link WebhookRow} reads them (the secret only where asked for). */
    private static final String SELECT_WEBHOOK = """
            SELECT w.id, w.tenant, w.url, w.events, w.description, w.disabled_at IS NOT NULL AS disabled,
                   w.disabled_at, w.disabled_reason, w.created_at, NULL AS secret
            FROM fetchq.webhook w""";

    /**
     * Claims due deliveries of enabled endpoints, oldest due first, skipping those another worker
     * holds. An attempt claimed before and never recorded (its worker stopped mid-delivery) is
     * recorded as lost first; the claim makes the delivery due again after {@code lease}, so that
     * a worker that stops now leaves it to be sent again (with the same {@code webhook-id}).
     */
    private static final String CLAIM = """
            WITH due AS (
                SELECT d.id
                FROM fetchq.webhook_delivery d
                JOIN fetchq.webhook w ON w.id = d.webhook_id AND w.disabled_at IS NULL
                WHERE d.state = 'pending' AND d.next_attempt_at <= now()
                ORDER BY d.next_attempt_at
                LIMIT :limit
                FOR UPDATE OF d SKIP LOCKED
            ), lost AS (
                INSERT INTO fetchq.webhook_attempt (delivery_id, attempt, error, started_at, finished_at, next_attempt_at)
                SELECT d.id, d.attempts, 'no answer recorded: the worker sending it stopped',
                       COALESCE(d.attempt_started_at, now()), now(), now()
                FROM fetchq.webhook_delivery d JOIN due ON due.id = d.id
                WHERE d.lease_token IS NOT NULL
                ON CONFLICT DO NOTHING
            ), claimed AS (
                UPDATE fetchq.webhook_delivery d
                SET attempts = d.attempts + 1, lease_token = :token, attempt_started_at = now(),
                    next_attempt_at = now() + :lease * interval '1 millisecond'
                FROM due WHERE d.id = due.id
                RETURNING d.id, d.attempts, d.webhook_id, d.event_id, d.payload
            )
            SELECT c.id, c.attempts, c.webhook_id, w.url, w.secret, e.id AS event_id, e.type, e.tenant,
                   COALESCE(CASE WHEN e.type LIKE 'job.%' THEN e.job_id END, e.batch_id) AS subject,
                   e.created_at, c.payload
            FROM claimed c
            JOIN fetchq.webhook w ON w.id = c.webhook_id
            JOIN fetchq.event e ON e.id = c.event_id
            ORDER BY c.id""";

    /**
     * Records an attempt under its claim, and what follows: delivered, due again, or failed; the
     * endpoint's run of failures starts, goes on or ends, and the endpoint is disabled on a
     * {@code 410 Gone} or once it has failed for {@code :disable_after_ms}.
     */
    private static final String RECORD = """
            WITH d AS (
                UPDATE fetchq.webhook_delivery d
                SET state = :state, lease_token = NULL, attempt_started_at = NULL,
                    next_attempt_at = COALESCE(:next::timestamptz, d.next_attempt_at),
                    delivered_at = CASE WHEN :state = 'delivered' THEN now() END
                WHERE d.id = :id AND d.lease_token = :token
                RETURNING d.id, d.webhook_id, d.attempts
            ), a AS (
                INSERT INTO fetchq.webhook_attempt (delivery_id, attempt, status_code, error, started_at, finished_at,
                                                    next_attempt_at)
                SELECT d.id, d.attempts, :status, :error, :started, now(), :next::timestamptz FROM d
                ON CONFLICT DO NOTHING
            ), w AS (
                UPDATE fetchq.webhook w
                SET failing_since = CASE WHEN :ok THEN NULL ELSE COALESCE(w.failing_since, :started) END,
                    disabled_at = CASE WHEN w.disabled_at IS NULL AND (:gone OR (NOT :ok AND COALESCE(w.failing_since, :started)
                                           <= now() - :disable_after_ms * interval '1 millisecond'))
                                       THEN now() ELSE w.disabled_at END,
                    disabled_reason = CASE WHEN w.disabled_at IS NOT NULL THEN w.disabled_reason
                                           WHEN :gone THEN 'the endpoint answered 410 Gone'
                                           WHEN NOT :ok AND COALESCE(w.failing_since, :started)
                                                <= now() - :disable_after_ms * interval '1 millisecond'
                                           THEN 'every delivery failed for ' || :disable_after_text
                                           ELSE w.disabled_reason END
                FROM d WHERE w.id = d.webhook_id
            )
            SELECT count(*) FROM d""";

    private final JdbcClient jdbc;

    public WebhookQueries(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Creates an endpoint of {@code tenant} with a new signing secret: the only answer that shows it. */
    public WebhookRow create(String tenant, String url, List<String> events, String description) {
        String secret = WebhookSignature.newSecret();
        long id = jdbc.sql("""
                INSERT INTO fetchq.webhook (tenant, url, events, description, secret)
                VALUES (:tenant, :url, string_to_array(:events, ','), :description, :secret)
                RETURNING id""")
                .param("tenant", tenant).param("url", url).param("events", String.join(",", events))
                .param("description", description).param("secret", secret)
                .query(Long.class).single();
        return find(id, tenant).orElseThrow().withSecret(secret);
    }

    /** The endpoint, if it belongs to {@code tenant} (any tenant's when null). */
    public Optional<WebhookRow> find(long id, String tenant) {
        return Tenants.bind(jdbc.sql(SELECT_WEBHOOK + " WHERE w.id = :id" + Tenants.condition("w", tenant))
                .param("id", id), tenant).query(WebhookQueries::webhook).optional();
    }

    /** {@code tenant}'s endpoints (every tenant's when null) in id order, those after {@code afterId}. */
    public List<WebhookRow> list(String tenant, long afterId, int limit) {
        return Tenants.bind(jdbc.sql(SELECT_WEBHOOK + " WHERE w.id > :after" + Tenants.condition("w", tenant)
                + " ORDER BY w.id LIMIT :limit").param("after", afterId).param("limit", limit), tenant)
                .query(WebhookQueries::webhook).list();
    }

    /**
     * What a change sets; null fields stay as they are. {@code disabled} false enables the endpoint
     * again (its run of failures forgotten), true disables it.
     */
    public record Change(String url, List<String> events, String description, Boolean disabled) {
    }

    /** Changes the endpoint; empty when there is no such endpoint of {@code tenant}. */
    public Optional<WebhookRow> update(long id, String tenant, Change change) {
        int updated = Tenants.bind(jdbc.sql("""
                UPDATE fetchq.webhook w
                SET url = COALESCE(:url, w.url),
                    events = COALESCE(string_to_array(:events, ','), w.events),
                    description = CASE WHEN :set_description THEN :description ELSE w.description END,
                    disabled_at = CASE WHEN :disabled::boolean IS NULL THEN w.disabled_at
                                       WHEN :disabled::boolean THEN COALESCE(w.disabled_at, now()) END,
                    disabled_reason = CASE WHEN :disabled::boolean IS NULL THEN w.disabled_reason
                                           WHEN :disabled::boolean THEN COALESCE(w.disabled_reason, 'disabled by request') END,
                    failing_since = CASE WHEN :disabled::boolean IS FALSE THEN NULL ELSE w.failing_since END
                WHERE w.id = :id""" + Tenants.condition("w", tenant))
                .param("id", id).param("url", change.url())
                .param("events", change.events() == null ? null : String.join(",", change.events()))
                .param("set_description", change.description() != null).param("description", change.description())
                .param("disabled", change.disabled()), tenant).update();
        return updated == 0 ? Optional.empty() : find(id, tenant);
    }

    /** Deletes the endpoint with its deliveries; false when there is no such endpoint of {@code tenant}. */
    public boolean delete(long id, String tenant) {
        return Tenants.bind(jdbc.sql("DELETE FROM fetchq.webhook w WHERE w.id = :id" + Tenants.condition("w", tenant))
                .param("id", id), tenant).update() > 0;
    }

    /**
     * The endpoint's deliveries, newest first, those with an id below {@code beforeId}, each with its
     * attempts; empty when there is no such endpoint of {@code tenant}.
     */
    public Optional<List<DeliveryRow>> deliveries(long webhookId, String tenant, long beforeId, int limit) {
        if (find(webhookId, tenant).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(jdbc.sql("""
                SELECT d.id, d.webhook_id, d.event_id, e.type AS event_type, d.state, d.created_at,
                       CASE WHEN d.state = 'pending' THEN d.next_attempt_at END AS next_attempt_at, d.delivered_at,
                       a.attempt, a.status_code, a.error, a.created_at AS attempt_at, a.delivered_at AS attempt_delivered_at,
                       a.next_attempt_at AS attempt_next_at
                FROM (SELECT * FROM fetchq.webhook_delivery
                      WHERE webhook_id = :webhook AND id < :before ORDER BY id DESC LIMIT :limit) d
                JOIN fetchq.event e ON e.id = d.event_id
                LEFT JOIN fetchq.webhook_deliveries a ON a.delivery_id = d.id
                ORDER BY d.id DESC, a.attempt""")
                .param("webhook", webhookId).param("before", beforeId).param("limit", limit)
                .query((ResultSetExtractor<List<DeliveryRow>>) WebhookQueries::deliveries));
    }

    /**
     * Sends the delivery again as soon as a worker can (a delivered or failed one too, with its
     * attempts counting on); empty when there is no such delivery of the endpoint of {@code tenant}.
     */
    public Optional<DeliveryRow> retry(long webhookId, long deliveryId, String tenant) {
        if (find(webhookId, tenant).isEmpty()) {
            return Optional.empty();
        }
        int updated = jdbc.sql("""
                UPDATE fetchq.webhook_delivery
                SET state = 'pending', next_attempt_at = now()
                WHERE id = :id AND webhook_id = :webhook AND lease_token IS NULL""")
                .param("id", deliveryId).param("webhook", webhookId).update();
        if (updated == 0 && jdbc.sql("SELECT count(*) FROM fetchq.webhook_delivery WHERE id = :id AND webhook_id = :webhook")
                .param("id", deliveryId).param("webhook", webhookId).query(Long.class).single() == 0) {
            return Optional.empty();
        }
        return deliveries(webhookId, tenant, deliveryId + 1, 1).flatMap(d -> d.stream().findFirst());
    }

    /** Claims up to {@code limit} due deliveries; see {@link #CLAIM}. Commits before returning. */
    public List<DueDelivery> claimDue(int limit, Duration lease) {
        UUID token = UUID.randomUUID();
        return jdbc.sql(CLAIM).param("limit", limit).param("token", token).param("lease", lease.toMillis())
                .query((rs, n) -> new DueDelivery(rs.getLong("id"), token, rs.getInt("attempts"), rs.getLong("webhook_id"),
                        rs.getString("url"), rs.getString("secret"), rs.getLong("event_id"), rs.getString("type"),
                        rs.getString("tenant"), rs.getLong("subject"), rs.getObject("created_at", OffsetDateTime.class),
                        rs.getString("payload")))
                .list();
    }

    /**
     * Keeps the body of a first attempt, so that every later attempt sends the same bytes; answers
     * the body to send (one kept before wins).
     */
    public String keepPayload(DueDelivery delivery, String payload) {
        return jdbc.sql("""
                UPDATE fetchq.webhook_delivery SET payload = COALESCE(payload, :payload)
                WHERE id = :id AND lease_token = :token
                RETURNING payload""")
                .param("payload", payload).param("id", delivery.deliveryId()).param("token", delivery.leaseToken())
                .query(String.class).optional().orElse(payload);
    }

    /** How an attempt ended. */
    public enum Ending {
        /** A 2xx. */
        DELIVERED,
        /** Anything else, with attempts left: sent again at {@code next}. */
        RETRY,
        /** Anything else, the last attempt. */
        GAVE_UP,
        /** {@code 410 Gone}: the endpoint is disabled. */
        GONE
    }

    /**
     * Records the attempt of a claim that still holds (false when it no longer does: nothing was
     * written). {@code disableAfter}: how long an endpoint may fail before it is disabled.
     */
    public boolean record(DueDelivery delivery, Ending ending, Integer status, String error, Instant started,
            Instant next, Duration disableAfter) {
        String state = switch (ending) {
            case DELIVERED -> "delivered";
            case RETRY -> "pending";
            case GAVE_UP, GONE -> "failed";
        };
        return jdbc.sql(RECORD)
                .param("state", state).param("id", delivery.deliveryId()).param("token", delivery.leaseToken())
                .param("next", next == null ? null : OffsetDateTime.ofInstant(next, ZoneOffset.UTC))
                .param("status", status).param("error", error)
                .param("started", OffsetDateTime.ofInstant(started, ZoneOffset.UTC))
                .param("ok", ending == Ending.DELIVERED).param("gone", ending == Ending.GONE)
                .param("disable_after_ms", disableAfter.toMillis()).param("disable_after_text", describe(disableAfter))
                .query(Long.class).single() > 0;
    }

    private static String describe(Duration d) {
        return d.toDays() > 0 && d.equals(Duration.ofDays(d.toDays())) ? d.toDays() + " days" : d.toString();
    }

    private static WebhookRow webhook(ResultSet rs, int n) throws SQLException {
        Array events = rs.getArray("events");
        return new WebhookRow(rs.getLong("id"), rs.getString("tenant"), rs.getString("url"),
                List.of((String[]) events.getArray()), rs.getString("description"), rs.getBoolean("disabled"),
                rs.getObject("disabled_at", OffsetDateTime.class), rs.getString("disabled_reason"),
                rs.getObject("created_at", OffsetDateTime.class), null);
    }

    /** Rows of a delivery and its attempts (one per attempt, or one with no attempt) into deliveries. */
    private static List<DeliveryRow> deliveries(ResultSet rs) throws SQLException {
        Map<Long, DeliveryRow> byId = new LinkedHashMap<>();
        while (rs.next()) {
            long id = rs.getLong("id");
            DeliveryRow delivery = byId.computeIfAbsent(id, k -> {
                try {
                    return new DeliveryRow(k, rs.getLong("webhook_id"), rs.getLong("event_id"),
                            rs.getString("event_type"), rs.getString("state"),
                            rs.getObject("created_at", OffsetDateTime.class),
                            rs.getObject("next_attempt_at", OffsetDateTime.class),
                            rs.getObject("delivered_at", OffsetDateTime.class), new ArrayList<>());
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            int attempt = rs.getInt("attempt");
            if (!rs.wasNull()) {
                delivery.attempts().add(new DeliveryRow.Attempt(attempt, rs.getObject("status_code", Integer.class),
                        rs.getString("error"), rs.getObject("attempt_at", OffsetDateTime.class),
                        rs.getObject("attempt_delivered_at", OffsetDateTime.class),
                        rs.getObject("attempt_next_at", OffsetDateTime.class)));
            }
        }
        return List.copyOf(byId.values());
    }
}
