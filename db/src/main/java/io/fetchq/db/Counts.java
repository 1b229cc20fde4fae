package io.fetchq.db;

/**
 * The counts of jobs by state ({@code fetchq.job_count}) as the statements that change a job's state
 * keep them: such a statement returns its changed jobs from a CTE (with their {@code batch_id}, new
 * {@code state}, {@code finished_at}, and the {@code from_state} they left), adds {@link #cte} after
 * it, and reads {@code counted} in its final select ({@link #RUN}, or a union arm), which is what
 * makes the CTE run.
 */
final class Counts {

    /** A select-list item that runs the {@code counted} CTE (a CTE that no one reads is not run). */
    static final String RUN = "(SELECT count(*) FROM counted) AS counted";

    private Counts() {
    }

    /** The {@code counted} CTE: adds to the counts the moves of the jobs in CTE {@code source}. */
    static String cte(String source) {
        return """
                counted AS (
                    SELECT fetchq.count_job_changes(array_agg(ROW(x.batch_id, x.state, x.finished_at, x.n)::fetchq.job_count_delta))
                    FROM (SELECT batch_id, state, max(finished_at) AS finished_at, count(*) AS n FROM %1$s GROUP BY batch_id, state
                          UNION ALL
                          SELECT batch_id, from_state, NULL, -count(*) FROM %1$s GROUP BY batch_id, from_state) x
                    HAVING count(*) > 0
                )""".formatted(source);
    }
}
