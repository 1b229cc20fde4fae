package io.fetchq.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness in miniature, so that it cannot rot: every scenario runs and is reported. */
class BenchSmokeTest {

    @TempDir
    Path out;

    @Test
    void everyScenarioRunsAndIsReported() throws Exception {
        Path report = out.resolve("benchmarks.md");
        Bench.main("--n=300", "--runs=1", "--out=" + report);
        String text = Files.readString(report);
        assertThat(text).contains("| bound | 300 |").contains("| drain-noop | 300 |").contains("| enqueue-db | 300 |")
                .contains("scripts/bench.sh");
    }
}
