package kittyspark.pipeline;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Shared fixtures: a small local Spark, the demo model, and inputs with every kind of bad row. */
public final class TestSpark {
    public static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();
    public static final Path DEMO_MODEL = REPO.resolve("models/kitty-demo-qwen3-12m");

    public static final StructType INPUT = new StructType()
            .add("id", DataTypes.StringType)
            .add("prompt", DataTypes.StringType)
            .add("max_new_tokens", DataTypes.IntegerType)
            .add("temperature", DataTypes.DoubleType)
            .add("top_p", DataTypes.DoubleType)
            .add("seed", DataTypes.LongType)
            .add("stop", DataTypes.createArrayType(DataTypes.StringType))
            .add("source", DataTypes.StringType);

    private TestSpark() {
    }

    public static SparkSession session() {
        return SparkSession.builder().master("local[2]").appName("kitty-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.driver.host", "127.0.0.1")
                .getOrCreate();
    }

    public static PipelineConfig config() {
        return new PipelineConfig(DEMO_MODEL.toString(), PipelineConfig.WeightsDigest.FULL,
                new PipelineConfig.Columns("id", "prompt", "messages"),
                new PipelineConfig.SamplingDefaults(4, 0.0, 0, 1.0, List.of()),
                42L, KvSettings.of(KvMode.FP16), false, 0, 0.5,
                new PipelineConfig.EngineSettings("auto", 2, 16, 0, 2048),
                new PipelineConfig.RunSettings(2, 8, 1000, Duration.ofSeconds(5), false, Duration.ofMinutes(10)));
    }

    public static Row row(String id, String prompt, Integer maxNew, Double temperature, Double topP, Long seed,
                   List<String> stop, String source) {
        return RowFactory.create(id, prompt, maxNew, temperature, topP, seed,
                stop == null ? null : scala.jdk.javaapi.CollectionConverters.asScala(stop).toSeq(), source);
    }

    public static Row ok(String id, String prompt) {
        return row(id, prompt, null, null, null, null, null, "good");
    }

    public static final String UNICODE = "日本語のテキスト 😀🎉 שלום עולם e\u0301 \u200b zero\u0000width";

    /** Good rows followed by one row of each bad kind (see the issue's list). */
    public static List<Row> mixedRows() {
        List<Row> rows = new ArrayList<>(goodRows(4));
        rows.addAll(Arrays.asList(
                row(null, "def f():", null, null, null, null, null, "null id"),
                row("", "def f():", null, null, null, null, null, "empty id"),
                row("good-0", "def duplicate():", null, null, null, null, null, "duplicate id"),
                row("null-prompt", null, null, null, null, null, null, "null prompt"),
                row("too-long", "x = 1\n".repeat(6000), null, null, null, null, null, "over-long prompt"),
                row("negative-max", "def f():", -3, null, null, null, null, "negative max_new_tokens"),
                row("nan-temperature", "def f():", null, Double.NaN, null, null, null, "NaN temperature"),
                row("top-p-zero", "def f():", null, null, 0.0, null, null, "top_p 0"),
                row("top-p-big", "def f():", null, null, 1.5, null, null, "top_p 1.5"),
                row("unicode", UNICODE, null, null, null, null, null, "unicode")));
        return rows;
    }

    public static List<Row> goodRows(int n) {
        List<Row> rows = new ArrayList<>();
        String[] prompts = {"import os\n\ndef main():\n", "class Point:\n    def __init__(self, x, y):\n",
                "# compute the mean\ndef mean(xs):\n", "for i in range(10):\n", "def fib(n):\n    if n < 2:\n",
                "import numpy as np\n\n", "with open(path) as f:\n", "try:\n    import json\nexcept"};
        for (int i = 0; i < n; i++) {
            rows.add(ok("good-" + i, prompts[i % prompts.length]));
        }
        return rows;
    }

    /**
     * How many Spark jobs {@code work} started (it may throw; that is rethrown after counting).
     * A marker job run afterwards flushes the listener bus: its start is delivered after theirs.
     */
    public static int sparkJobsDuring(SparkSession spark, Runnable work) {
        java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch marker = new java.util.concurrent.CountDownLatch(1);
        String markerGroup = "kitty-test-marker-" + System.nanoTime();
        org.apache.spark.scheduler.SparkListener listener = new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart e) {
                if (markerGroup.equals(e.properties().getProperty("spark.jobGroup.id"))) {
                    marker.countDown();
                } else {
                    started.incrementAndGet();
                }
            }
        };
        spark.sparkContext().addSparkListener(listener);
        try {
            RuntimeException failure = null;
            try {
                work.run();
            } catch (RuntimeException e) {
                failure = e;
            }
            spark.sparkContext().setJobGroup(markerGroup, "marker", false);
            spark.range(1).count();
            spark.sparkContext().clearJobGroup();
            if (!marker.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("the marker job's start was never delivered");
            }
            if (failure != null) {
                throw new CountedFailure(started.get(), failure);
            }
            return started.get();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        } finally {
            spark.sparkContext().removeSparkListener(listener);
        }
    }

    /** {@link #sparkJobsDuring}'s work failed: how many jobs it started, and why it failed. */
    public static final class CountedFailure extends RuntimeException {
        public final int jobs;

        CountedFailure(int jobs, RuntimeException cause) {
            super(cause);
            this.jobs = jobs;
        }
    }

    /** Every input key once in the output, nothing else: the output's invariant after any run. */
    public static void assertEachRowOnce(SparkSession spark, Path input, Path output) {
        java.util.Map<String, Long> want = new java.util.HashMap<>();
        java.util.Map<String, Integer> occurrence = new java.util.HashMap<>();
        for (Row r : spark.read().parquet(input.toString()).collectAsList()) {
            String id = r.getAs("id");
            int n = occurrence.merge(String.valueOf(id), 1, Integer::sum);
            want.put(id + "#" + n, 1L);
        }
        java.util.Map<String, Long> got = new java.util.HashMap<>();
        for (Row r : spark.read().parquet(output.toString()).collectAsList()) {
            got.merge(r.getAs("id") + "#" + r.getAs("id_occurrence"), 1L, Long::sum);
        }
        org.junit.jupiter.api.Assertions.assertEquals(want, got, "one output row per input row, no duplicates, nothing lost");
    }

    public static String write(SparkSession spark, List<Row> rows, Path dir) {
        Dataset<Row> df = spark.createDataFrame(rows, INPUT);
        df.coalesce(1).write().mode("overwrite").parquet(dir.toString());
        return dir.toString();
    }
}
