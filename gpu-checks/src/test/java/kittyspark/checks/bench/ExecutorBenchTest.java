package kittyspark.checks.bench;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executor bench runs the executor's feeding classes end to end on the CPU with the demo
 * model, in a module that has no Spark on its classpath (as on the GPU machine), and writes the
 * results file the device run commits.
 */
class ExecutorBenchTest {
    @TempDir
    Path tmp;

    @Test
    void runsTaskThreadsThroughTheSharedGateWithoutSparkAndWritesTheResults() throws Exception {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.spark.sql.Row"),
                "this module must run without Spark");
        Path out = tmp.resolve("executor.json");
        int rc = new CommandLine(new ExecutorBench()).execute("--device", "cpu", "--model", TestData.demoModel().toString(),
                "--kv", "kitty", "--prompt", "32", "--new", "6", "--tasks", "3", "--rows", "20", "--commit", "test",
                "--out", out.toString());
        assertEquals(0, rc);
        JsonNode j = new ObjectMapper().readTree(out.toFile());
        for (String key : new String[] {"commit", "kv", "prompt", "new", "tasks", "rows", "tokens_per_s", "reference_tokens_per_s",
                "engine_busy_fraction", "full_batch_fraction"}) {
            assertTrue(j.has(key), key + " in " + j);
        }
        assertEquals(20, j.path("rows").asInt());
        assertEquals(20 * 6, j.path("generated_tokens").asInt(), "every row generated its tokens");
        assertTrue(j.path("tokens_per_s").asDouble() > 0 && j.path("reference_tokens_per_s").asDouble() > 0, j.toString());
        double busy = j.path("engine_busy_fraction").asDouble();
        assertTrue(busy > 0 && busy <= 1.0, j.toString());
        assertTrue(j.path("full_batch_fraction").asDouble() > 0, "with 20 rows for 16 admissible, most steps are full: " + j);
    }
}
