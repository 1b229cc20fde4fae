package io.fetchq.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness in miniature, so that it cannot rot: every scenario runs (each checks its own work:
 * every job drained, fetched or inserted) and is reported.
 */
class BenchSmokeTest {

    @TempDir
    Path out;

    @Test
    void everyScenarioRunsAndIsReported() throws Exception {
        Path report = out.resolve("benchmarks.md");
        Files.writeString(report, "| stale | table |\n\n" + Bench.NOTES_MARKER + "\n\nWhat limits drain-http: a note.\n");
        // The four-worker variants start eight more JVMs and check nothing the others do not.
        System.setProperty("bench.e2e-variants", "aiohttp,1-worker-defaults,1-worker-per-host=64,2-workers-2-hosts");
        // A crawl of a 400-page site (its warm-up run: a tenth of it).
        System.setProperty("bench.crawl-pages", "400");
        Bench.main("--n=300", "--runs=1", "--history=2000", "--pickup=20", "--pickup-rate=100", "--in-flight=40",
                "--urls=200", "--submits=100", "--out=" + report);
        String text = Files.readString(report);
        for (String row : new String[] {"| bound | 300 | jobs/s |", "| drain-noop | 300 | jobs/s |",
                "| drain-http | 300 | jobs/s |", "| history | 300 | jobs/s |", "| retention | 300 | jobs/s |",
                "| enqueue-db | 300 | jobs/s |", "| enqueue-text | 300 | jobs/s |", "| enqueue-json | 300 | jobs/s |",
                "| pickup | 20 | p50 ms |", "| pickup | 20 | p99 ms |", "| memory | 40 | peak RSS MiB (JVM defaults) |",
                "| memory | 40 | peak RSS MiB (-Xmx256m) |", "| drain-http-e2e | 200 | 1 worker, defaults fetches/s |",
                "| drain-http-e2e | 200 | 1 worker, per-host=64 fetches/s |",
                "| drain-http-e2e | 200 | 2 workers, 2 hosts fetches/s |", "| schedules | 300 | s to run them all |",
                "| crawl-e2e | 400 | fetchq pages/s |", "| crawl-e2e | 400 | fetchq links recorded/s |"}) {
            assertThat(text).contains(row);
        }
        assertThat(text).as("the table is new, the notes are kept").doesNotContain("| stale | table |")
                .endsWith(Bench.NOTES_MARKER + "\n\nWhat limits drain-http: a note.\n");
        assertThat(text).contains("scripts/bench.sh").contains("% of bound").contains("% of drain-noop");
    }
}
