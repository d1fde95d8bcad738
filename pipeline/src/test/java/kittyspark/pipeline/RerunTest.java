package kittyspark.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.plan.RunPreview;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.QueryExecution;
import org.apache.spark.sql.util.QueryExecutionListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scheduled reruns over one output: what a no-op rerun costs and keeps, and what a dry run says. */
class RerunTest {
    static SparkSession spark;
    static final ObjectMapper JSON = new ObjectMapper();
    /** A shuffle in a physical plan: {@code Exchange hashpartitioning(id#3, 200)}, {@code rangepartitioning(..., 4)}. */
    static final Pattern EXCHANGE = Pattern.compile("Exchange (?:hash|range|roundrobin)?partitioning\\(.*?, (\\d+)\\)");

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir.getParent())) {
            return s.map(p -> p.toString() + (Files.isRegularFile(p) ? "@" + p.toFile().length() : "")).sorted().toList();
        }
    }

    @Test
    void aRerunWithNothingToDoKeepsTheLastRealSummaryAndPlansInAFewTasks() throws Exception {
        String input = TestSpark.write(spark, TestSpark.goodRows(3), tmp.resolve("in"));
        Path out = tmp.resolve("out");
        JobSummary first = new GenerationPipeline(spark, TestSpark.config()).run(input, out.toString());
        String summary = Files.readString(out.resolve("_kitty_summary.json"));

        // Every shuffle of every query the rerun executes, as its physical plan states it.
        List<Integer> shuffles = new java.util.concurrent.CopyOnWriteArrayList<>();
        QueryExecutionListener plans = new QueryExecutionListener() {
            @Override
            public void onSuccess(String funcName, QueryExecution qe, long durationNs) {
                Matcher m = EXCHANGE.matcher(qe.executedPlan().toString());
                while (m.find()) {
                    shuffles.add(Integer.parseInt(m.group(1)));
                }
            }

            @Override
            public void onFailure(String funcName, QueryExecution qe, Exception exception) {
            }
        };
        String shufflePartitions = spark.conf().get("spark.sql.shuffle.partitions");
        spark.conf().set("spark.sql.shuffle.partitions", "200"); // Spark's default, as spark-submit users have it
        spark.listenerManager().register(plans);
        JobSummary again;
        try {
            again = new GenerationPipeline(spark, TestSpark.config()).run(input, out.toString());
            spark.sparkContext().listenerBus().waitUntilEmpty();
        } finally {
            spark.listenerManager().unregister(plans);
            spark.conf().set("spark.sql.shuffle.partitions", shufflePartitions);
        }

        assertFalse(again.didWork());
        assertEquals(summary, Files.readString(out.resolve("_kitty_summary.json")), "the no-op rerun does not overwrite it");
        assertTrue(Files.isRegularFile(out.resolve("_kitty_runs/" + again.runId() + ".json")), "but it is on record");
        assertTrue(again.toText().contains("nothing to do"), again.toText());
        assertFalse(again.toText().contains("smaller than fp16"), again.toText());
        assertTrue(!shuffles.isEmpty(), "planning shuffles (numbering duplicates, matching the output)");
        assertTrue(shuffles.stream().allMatch(n -> n <= 2), "3 rows in one file, 1 output commit: " + shuffles);

        JsonNode json = JSON.readTree(summary);
        JsonNode engine = json.path("concurrency").path("per_engine").get(0);
        assertTrue(engine.has("executor_id") && engine.has("created_in_run") && !engine.has("executorId"), engine.toString());
        assertEquals(first.enginesCreated() > 0, engine.get("created_in_run").asBoolean(),
                "an engine created by the run says so, whichever task reported last");
        // How well the engine was used: its steps, those below 90% of the admissible batch, busy and idle time.
        JsonNode use = json.path("engine_use");
        assertTrue(use.path("steps").asLong() > 0, use.toString());
        assertTrue(use.path("underfull_steps").asLong() <= use.path("steps").asLong(), use.toString());
        assertTrue(use.path("busy_seconds").asDouble() > 0 && use.path("idle_seconds").asDouble() >= 0, use.toString());
        assertTrue(use.path("busy_fraction").asDouble() > 0 && use.path("busy_fraction").asDouble() <= 1, use.toString());
        assertTrue(use.path("admissible_batch").asInt() > 0 && use.path("kv_pool_bytes").asLong() > 0, use.toString());
        assertEquals(first.engineUse().steps(), use.path("steps").asLong());
        assertTrue(first.toText().contains("below 90% of the admissible batch"), first.toText());
    }

    @Test
    void aDryRunCountsNewSkippedAndRegeneratedRowsAndWritesNothing() throws Exception {
        List<Row> rows = List.of(TestSpark.ok("default-len", "def f():\n"),
                TestSpark.row("own-len", "def g():\n", 3, null, null, null, null, "good"));
        Path out = tmp.resolve("out");
        new GenerationPipeline(spark, TestSpark.config()).run(TestSpark.write(spark, rows, tmp.resolve("in1")), out.toString());
        List<Row> more = new java.util.ArrayList<>(rows);
        more.add(TestSpark.ok("new-row", "import os\n"));
        String input = TestSpark.write(spark, more, tmp.resolve("in2"));
        PipelineConfig longer = TestSpark.config().withSampling(new PipelineConfig.SamplingDefaults(6, 0.0, 0, 1.0, List.of()));
        List<String> before = listing(out);

        RunPreview p = new GenerationPipeline(spark, longer).preview(input, out.toString());

        assertEquals(before, listing(out), "a dry run writes nothing");
        assertEquals(3, p.inputRows());
        assertEquals(1, p.newRows());
        assertEquals(1, p.regenerateRows(), "the row that takes the job's max-new-tokens changed");
        assertEquals(1, p.skipRows(), "the row with its own max_new_tokens did not");
        assertEquals(6 + 6, p.maxGeneratedTokens(), "two rows to generate, 6 tokens each at most");
        assertTrue(p.promptTokens() > 0 && p.tokenSample() == 2, p.toText());
        // The real run does what the dry run said.
        JobSummary s = new GenerationPipeline(spark, longer).run(input, out.toString());
        assertEquals(p.skipRows(), s.skippedRows());
        assertEquals(p.todoRows(), s.okRows() + s.errorRows());
    }
}
