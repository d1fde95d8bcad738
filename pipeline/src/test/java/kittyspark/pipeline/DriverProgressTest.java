package kittyspark.pipeline;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import kittyspark.pipeline.executor.ExecutorEngines;
import org.apache.spark.executor.ExecutorMetrics;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;
import scala.Tuple4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run's progress as the driver prints it. */
class DriverProgressTest {
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
    void runningTasksCountFromTheirHeartbeatsBeforeTheyEnd() {
        ProgressCounters c = ProgressCounters.register(spark.sparkContext());
        List<String> lines = new CopyOnWriteArrayList<>();
        try (DriverProgress p = DriverProgress.start(spark.sparkContext(), c, 10, Duration.ofHours(1), lines::add)) {
            AccumulableInfo rows = new AccumulableInfo(c.rows.id(), Option.apply(c.rows.name().get()),
                    Option.apply(4L), Option.apply(4L), false, false, Option.empty());
            AccumulableInfo prompt = new AccumulableInfo(c.promptTokens.id(), Option.apply(c.promptTokens.name().get()),
                    Option.apply(400L), Option.apply(400L), false, false, Option.empty());
            var updates = scala.jdk.javaapi.CollectionConverters.asScala(List.of(
                    new Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>>(7L, 1, 0,
                            scala.jdk.javaapi.CollectionConverters.asScala(List.of(rows, prompt)).toList()))).toList();
            scala.collection.immutable.Map<scala.Tuple2<Object, Object>, ExecutorMetrics> none =
                    scala.collection.immutable.Map$.MODULE$.empty();
            p.onExecutorMetricsUpdate(new SparkListenerExecutorMetricsUpdate("1", updates, none));
            DriverProgress.Snapshot s = p.snapshot();
            assertEquals(4, s.rows());
            assertEquals(400, s.promptTokens());
            assertTrue(p.line().startsWith("kitty progress: 4/10 rows (40.0%)"), p.line());
            assertTrue(p.line().contains("ETA"), p.line());
        }
    }

    @Test
    void aRunPrintsItsProgressOnTheDriverEndingAtEveryRowWithPromptTokensCounted() {
        String input = TestSpark.write(spark, TestSpark.goodRows(4), tmp.resolve("in"));
        List<String> lines = new CopyOnWriteArrayList<>();
        new GenerationPipeline(spark, TestSpark.config()).withProgress(lines::add).run(input, tmp.resolve("out").toString());
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("kitty progress: 4/4 rows (100.0%)"), last);
        assertTrue(!last.contains(" 0 prompt tokens/s"), "prefill counts: " + last);
        assertTrue(last.endsWith("done"), last);
    }

    @Test
    void etaAndDurationsReadLikeAClock() {
        assertEquals("kitty progress: 25/100 rows (25.0%), 10 prompt tokens/s, 5 generated tokens/s, 50s elapsed, ETA 2m30s",
                DriverProgress.format(new DriverProgress.Snapshot(25, 500, 250), 100, 50));
        assertEquals("1h01m", DriverProgress.duration(3660));
    }
}
