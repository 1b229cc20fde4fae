package io.fetchq.db;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * One event sent to one endpoint, with its attempts (as {@code fetchq.webhook_deliveries} shows
 * them): the REST view of a delivery.
 *
 * @param state pending (to be sent, or sent again), delivered (an attempt got a 2xx) or failed
 *     (every attempt failed, or the endpoint answered {@code 410 Gone})
 */
public record DeliveryRow(
        long id,
        long webhookId,
        long eventId,
        String eventType,
        String state,
        OffsetDateTime createdAt,
        OffsetDateTime nextAttemptAt,
        OffsetDateTime deliveredAt,
        List<Attempt> attempts) {

    /** One attempt: numbered from 1, its answer's status or the error, when it started. */
    public record Attempt(int attempt, Integer statusCode, String error, OffsetDateTime createdAt,
            OffsetDateTime deliveredAt, OffsetDateTime nextAttemptAt) {
    }
}
