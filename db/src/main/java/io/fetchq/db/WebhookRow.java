package io.fetchq.db;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * A webhook endpoint as the REST API shows it. {@code secret} is set only in the answer that
 * created the endpoint (it is never shown again, and left out of the JSON elsewhere).
 *
 * @param disabled true once the endpoint answered {@code 410 Gone} or failed for five days, or an
 *     admin disabled it: nothing is sent to it until it is enabled again
 */
public record WebhookRow(
        long id,
        String tenant,
        String url,
        List<String> events,
        String description,
        boolean disabled,
        OffsetDateTime disabledAt,
        String disabledReason,
        OffsetDateTime createdAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) String secret) {

    WebhookRow withSecret(String secret) {
        return new WebhookRow(id, tenant, url, events, description, disabled, disabledAt, disabledReason, createdAt,
                secret);
    }
}
