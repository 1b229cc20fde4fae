package io.fetchq.db;

import java.util.List;

/** Jobs of a batch carry idempotency keys that existing jobs already hold; nothing was inserted. */
public class IdempotencyKeyConflictException extends RuntimeException {

    private final List<Integer> indexes;

    public IdempotencyKeyConflictException(List<Integer> indexes) {
        super("idempotency keys already in use at batch indexes " + indexes);
        this.indexes = List.copyOf(indexes);
    }

    /** Positions in the submitted batch whose key is taken; empty when a concurrent insert won. */
    public List<Integer> indexes() {
        return indexes;
    }
}
