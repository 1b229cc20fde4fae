package io.fetchq.db;

/**
 * How a claim ends, as a worker hands it to {@link QueueQueries#completeMany}: each kind is written
 * only while its claim still holds.
 *
 * <ul>
 *   <li>{@link Completed}: a final response; the job is done.
 *   <li>{@link Failed}: the job gave up (its error kind says why).
 *   <li>{@link RetryAt}: the attempt ended retryably; the job is queued again after a delay.
 *   <li>{@link Released}: no request reached the remote (shutdown, open circuit, full host); the
 *       job goes back to the queue and the attempt neither counts nor is recorded.
 * </ul>
 */
public sealed interface Completion {

    Claim claim();

    /** Bytes this completion holds in memory until written. */
    long weight();

    /** The same ending without any text taken from the remote: what is left to store when the rest cannot be. */
    Completion withoutRemoteText();

    /** An ending with an attempt to record: everything but a release. */
    sealed interface Attempted extends Completion {
        AttemptRecord attempt();

        Payload payload();

        @Override
        default long weight() {
            return 512 + payload().weight();
        }
    }

    record Completed(Claim claim, AttemptRecord attempt, Payload payload) implements Attempted {
        @Override
        public Completed withoutRemoteText() {
            return new Completed(claim, attempt.withoutRemoteText(), payload.withoutRemoteText());
        }
    }

    record Failed(Claim claim, AttemptRecord attempt, Payload payload) implements Attempted {
        @Override
        public Failed withoutRemoteText() {
            return new Failed(claim, attempt.withoutRemoteText(), payload.withoutRemoteText());
        }
    }

    /** @param delayMs from now until the job is due again */
    record RetryAt(Claim claim, AttemptRecord attempt, Payload payload, long delayMs) implements Attempted {
        @Override
        public RetryAt withoutRemoteText() {
            return new RetryAt(claim, attempt.withoutRemoteText(), payload.withoutRemoteText(), delayMs);
        }
    }

    /** @param delayMs from now until the job is due again */
    record Released(Claim claim, long delayMs) implements Completion {
        @Override
        public long weight() {
            return 512;
        }

        @Override
        public Released withoutRemoteText() {
            return this;
        }
    }
}
