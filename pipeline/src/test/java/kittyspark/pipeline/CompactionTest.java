package kittyspark.pipeline;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.executor.RuntimeGenerationService;
import kittyspark.pipeline.output.OutputLock;
import kittyspark.pipeline.output.WriteStep;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reruns that supersede rows over several commits, and jobs killed at every step of the
 * output's write protocol. After each: one output row per input row, no duplicates, nothing
 * lost, and no leftovers.
 */
class CompactionTest {
    static SparkSession spark;

    /** A first run: 6 rows in commits of 2. */
    @TempDir
    static Path fixture;
    static Path input;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
        input = Path.of(TestSpark.write(spark, TestSpark.goodRows(6), fixture.resolve("in")));
        new GenerationPipeline(spark, firstConfig()).run(input.toString(), fixture.resolve("out").toString());
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    static PipelineConfig firstConfig() {
        return TestSpark.config().withRun(TestSpark.config().run().withCommitRows(2))
                .withSampling(new PipelineConfig.SamplingDefaults(1, 0.0, 0, 1.0, List.of()));
    }

    /** The first config with a longer default: every row's fingerprint changes. */
    static PipelineConfig changedConfig() {
        return firstConfig().withSampling(new PipelineConfig.SamplingDefaults(2, 0.0, 0, 1.0, List.of()));
    }

    private Path copyOfFirstRun() throws Exception {
        Path out = tmp.resolve("out");
        FileUtils.copyDirectory(fixture.resolve("out").toFile(), out.toFile());
        return out;
    }

    private static List<Integer> commitsOf(Path out) {
        List<Integer> c = new ArrayList<>();
        for (Row r : spark.read().parquet(out.toString()).select("kitty_commit").distinct().collectAsList()) {
            c.add(r.getInt(0));
        }
        c.sort(null);
        return c;
    }

    @Test
    void aChangedConfigurationOverSeveralCommitsKeepsOnlyTheNewestVersionOfEachRow() throws Exception {
        Path out = copyOfFirstRun();
        List<Integer> before = commitsOf(out);
        assertTrue(before.size() >= 2, "the first run spread its rows over several commits: " + before);

        JobSummary changed = new GenerationPipeline(spark, changedConfig()).run(input.toString(), out.toString());

        assertEquals(6, changed.okRows());
        assertEquals(6, changed.compactedRows(), "every first-run row is superseded");
        TestSpark.assertEachRowOnce(spark, input, out);
        int lastBefore = before.get(before.size() - 1);
        assertTrue(commitsOf(out).stream().allMatch(c -> c > lastBefore), "only the changed run's commits hold rows");
        assertEquals(6, new GenerationPipeline(spark, changedConfig()).run(input.toString(), out.toString()).skippedRows());
    }

    @Test
    void retryingErrorsOverSeveralCommitsKeepsOnlyTheNewestVersionOfEachRow() {
        List<Row> rows = new ArrayList<>(TestSpark.goodRows(3));
        rows.add(TestSpark.row("null-prompt", null, null, null, null, null, null, "bad"));
        rows.add(TestSpark.row("negative-max", "def f():", -3, null, null, null, null, "bad"));
        rows.add(TestSpark.row("top-p-big", "def f():", null, null, 1.5, null, null, "bad"));
        rows.add(TestSpark.row("nan-temperature", "def f():", null, Double.NaN, null, null, null, "bad"));
        Path in = Path.of(TestSpark.write(spark, rows, tmp.resolve("in")));
        Path out = tmp.resolve("out");
        new GenerationPipeline(spark, firstConfig()).run(in.toString(), out.toString());
        PipelineConfig retry = firstConfig().withRun(firstConfig().run().withRetryErrors(true));

        JobSummary second = new GenerationPipeline(spark, retry).run(in.toString(), out.toString());

        assertEquals(4, second.errorRows());
        assertEquals(4, second.compactedRows());
        TestSpark.assertEachRowOnce(spark, in, out);
    }

    /** Stands for the job dying: thrown from the write protocol, caught by nothing in the job. */
    static final class Crash extends Error {
        Crash(WriteStep step) {
            super("stopped at " + step);
        }
    }

    /** Stops a job changing the config at {@code step}, then reruns it: the rerun ends with every row once. */
    @ParameterizedTest
    @EnumSource(WriteStep.class)
    void aJobStoppedAtAnyWriteStepIsFinishedByTheNextRun(WriteStep step) throws Exception {
        Path out = copyOfFirstRun();
        WriteStep.Listener crashAt = (reached, commit) -> {
            if (reached == step) {
                throw new Crash(step);
            }
        };

        assertThrows(Crash.class, () -> new GenerationPipeline(spark, changedConfig(), RuntimeGenerationService.factory(),
                crashAt).run(input.toString(), out.toString()));

        assertFinishedByTheNextRun(out);
    }

    /**
     * A real {@code kill -9} (a child JVM halts) in the middle of a compaction swap, when the
     * commit being rewritten is out of sight in the work folder's {@code replaced/}: the dead job's lock is taken
     * over at once and its work finished.
     */
    @Test
    void aJobKilledMidSwapLeavesItsLockAndTheNextRunTakesOverAndFinishesTheWork() throws Exception {
        Path out = copyOfFirstRun();

        int rc = runKilledJob(WriteStep.COMPACT_MOVED_ASIDE, out);

        assertEquals(KilledJob.HALTED, rc, "the child halted (see " + tmp.resolve("child.log") + ")");
        assertTrue(Files.exists(out.resolve(OutputLock.FILE)), "a killed job leaves its lock behind");
        assertTrue(Files.exists(work(out).resolve("replaced")), "killed mid-swap");
        assertFinishedByTheNextRun(out);
    }

    /** Where the job stages and swaps, beside the output. */
    private static Path work(Path out) {
        return out.resolveSibling("." + out.getFileName() + ".kitty-work");
    }

    private void assertFinishedByTheNextRun(Path out) {
        JobSummary rerun = new GenerationPipeline(spark, changedConfig()).run(input.toString(), out.toString());
        TestSpark.assertEachRowOnce(spark, input, out);
        assertFalse(Files.exists(work(out)), "no leftovers");
        assertFalse(Files.exists(out.resolve(OutputLock.FILE)), "the rerun released the lock");
        assertEquals(6, new GenerationPipeline(spark, changedConfig()).run(input.toString(), out.toString()).skippedRows(),
                "every row is at the changed config (" + rerun.okRows() + " regenerated by the rerun)");
    }

    private int runKilledJob(WriteStep step, Path out) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")
                    || a.startsWith("-Dkitty.")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                KilledJob.class.getName(), input.toString(), out.toString(), step.name()));
        File log = tmp.resolve("child.log").toFile();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("the child job did not finish; see " + log);
        }
        return p.exitValue();
    }
}
