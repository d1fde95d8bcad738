package kittyspark.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.executor.RuntimeGenerationService;
import kittyspark.pipeline.output.OutputLock;
import kittyspark.pipeline.output.WriteStep;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two jobs on one output: the second refuses to start while the first holds it. */
class SharedOutputTest {
    static SparkSession spark;

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

    @Test
    void aSecondJobOnTheSameOutputRefusesToStartWhileTheFirstIsMidCommit() throws Exception {
        Path in = Path.of(TestSpark.write(spark, TestSpark.goodRows(6), tmp.resolve("in")));
        Path out = tmp.resolve("out");
        CountDownLatch staged = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean paused = new AtomicBoolean();
        WriteStep.Listener pauseAtFirstCommit = (step, commit) -> {
            if (step == WriteStep.COMMIT_STAGED && paused.compareAndSet(false, true)) {
                staged.countDown();
                try {
                    release.await(5, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        ExecutorService first = Executors.newSingleThreadExecutor();
        try {
            Future<JobSummary> firstJob = first.submit(() -> new GenerationPipeline(spark, TestSpark.config(),
                    RuntimeGenerationService.factory(), pauseAtFirstCommit).run(in.toString(), out.toString()));
            assertTrue(staged.await(5, TimeUnit.MINUTES), "the first job reached its first commit");

            InputException refused = assertThrows(InputException.class,
                    () -> new GenerationPipeline(spark, TestSpark.config()).run(in.toString(), out.toString()));

            assertTrue(refused.getMessage().contains("is in use by another kitty job"), refused.getMessage());
            assertTrue(refused.getMessage().contains("pid " + ProcessHandle.current().pid()), refused.getMessage());
            release.countDown();
            assertEquals(6, firstJob.get(5, TimeUnit.MINUTES).okRows());
        } finally {
            release.countDown();
            first.shutdownNow();
        }
        TestSpark.assertEachRowOnce(spark, in, out);
        assertFalse(Files.exists(out.resolve(OutputLock.FILE)), "released at the end");
        assertEquals(6, new GenerationPipeline(spark, TestSpark.config()).run(in.toString(), out.toString()).skippedRows(),
                "the next job may start once the first is done");
    }
}
