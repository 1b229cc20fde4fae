package io.fetchq.db;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The states of a job, as they appear in the public views ({@link #code()}). */
public enum JobState {
    QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED;

    private final String code = name().toLowerCase(Locale.ROOT);

    /** Every state's code, in order. */
    public static final List<String> CODES = Arrays.stream(values()).map(JobState::code).toList();

    /** How the state is spelt in the views and the API. */
    @JsonValue
    public String code() {
        return code;
    }

    /** The state spelt {@code code}, if there is one. */
    public static Optional<JobState> of(String code) {
        for (JobState s : values()) {
            if (s.code.equals(code)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
