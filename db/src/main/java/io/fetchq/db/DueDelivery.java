package io.fetchq.db;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A delivery a worker claimed: where to send which event, signed with which secret.
 *
 * @param attempt the number of this attempt, from 1
 * @param payload the body as sent before, or null on a first attempt (the worker renders it)
 * @param subject the batch (batch events) or job (job events) the event is about
 */
public record DueDelivery(
        long deliveryId,
        UUID leaseToken,
        int attempt,
        long webhookId,
        String url,
        String secret,
        long eventId,
        String eventType,
        String tenant,
        long subject,
        OffsetDateTime eventCreatedAt,
        String payload) {

    /** The {@code webhook-id} header: the event's id, the same on every attempt and endpoint. */
    public String messageId() {
        return "evt_" + eventId;
    }
}
