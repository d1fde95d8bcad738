package kittyspark.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.output.ErrorCode;
import kittyspark.pipeline.plan.StableHash;
import kittyspark.runtime.checkpoint.KvGeometry;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The job in Spark local mode on the demo model, end to end through real Parquet. */
class GenerationPipelineTest {
    static SparkSession spark;

    @TempDir
    Path tmp;

    /** One run over the mixed good and bad rows, shared by the tests that only read it. */
    @TempDir
    static Path shared;
    static JobSummary mixedRun;

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
        String input = TestSpark.write(spark, TestSpark.mixedRows(), shared.resolve("in"));
        mixedRun = new GenerationPipeline(spark, TestSpark.config()).run(input, shared.resolve("out").toString());
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    private JobSummary run(PipelineConfig cfg, String input, Path out) {
        return new GenerationPipeline(spark, cfg).run(input, out.toString());
    }

    private static Map<String, Row> byKey(Dataset<Row> out) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : out.collectAsList()) {
            String key = r.getAs("id") + "#" + r.getAs("id_occurrence");
            assertNull(m.put(key, r), "row " + key + " appears twice");
        }
        return m;
    }

    private static Dataset<Row> read(Path out) {
        return spark.read().parquet(out.toString());
    }

    @Test
    void everyInputRowYieldsExactlyOneOutputRowWithItsErrorOrCompletion() {
        JobSummary s = mixedRun;
        Map<String, Row> out = byKey(read(shared.resolve("out")));
        assertEquals(TestSpark.mixedRows().size(), out.size());
        assertEquals(14, s.inputRows());
        assertEquals(5, s.okRows(), "4 good rows and the unicode row generate");
        assertEquals(9, s.errorRows());
        for (int i = 0; i < 4; i++) {
            Row r = out.get("good-" + i + "#1");
            assertNull(r.getAs("error"));
            assertTrue(List.of("eos", "stop", "length").contains(r.<String>getAs("finish_reason")));
            assertNotNull(r.getAs("completion"));
            assertTrue(r.<Integer>getAs("prompt_tokens") > 0);
            assertEquals("good", r.getAs("source"), "input columns pass through");
            assertEquals("kitty-demo-qwen3-12m", r.getAs("model"));
            assertEquals("fp16", r.getAs("kv_mode"));
            assertNotNull(r.getAs("completion_mean_logprob"));
        }
        assertTrue(Files.isRegularFile(shared.resolve("out/_kitty_summary.json")));
    }

    @Test
    void theSummaryCountsKvBytesPerTokenWithTheRuntimesFootprint() {
        KvGeometry g = ModelConfig.load(TestSpark.DEMO_MODEL).kvGeometry();
        // fp16: every token holds a key and a value of kvWidth halves in every layer
        assertEquals(g.numLayers() * g.kvWidth() * 2.0 * 2, mixedRun.kvBytesPerToken(), 1e-9);
        assertEquals(1.0, mixedRun.kvRatioToFp16(), 1e-9);
        double kitty = GenerationPipeline.kvBytesPerToken(KvSettings.of(KvMode.KITTY), g, 4096);
        double ratio = mixedRun.kvBytesPerToken() / kitty;
        assertTrue(ratio > 4 && ratio < 7, "kitty holds ~2.5 bits plus a full-precision sink and window: " + ratio);
    }

    @Test
    void eachBadRowBecomesAnErrorRowThatSaysWhatIsWrong() {
        Map<String, String> errors = new HashMap<>();
        for (Row r : read(shared.resolve("out")).collectAsList()) {
            errors.put(r.getAs("source"), r.getAs("error"));
            if (r.getAs("error") != null) {
                assertEquals("error", r.getAs("finish_reason"));
            }
        }
        assertEquals("id is null", errors.get("null id"));
        assertEquals("id is empty", errors.get("empty id"));
        assertTrue(errors.get("duplicate id").startsWith("duplicate id 'good-0'"), errors.get("duplicate id"));
        assertEquals("prompt is null", errors.get("null prompt"));
        assertTrue(errors.get("over-long prompt").contains("the model's context is 4096"), errors.get("over-long prompt"));
        assertTrue(errors.get("negative max_new_tokens").contains("max_new_tokens must be >= 0"));
        assertTrue(errors.get("NaN temperature").contains("temperature"));
        assertTrue(errors.get("top_p 0").contains("top_p must be in (0, 1]"));
        assertTrue(errors.get("top_p 1.5").contains("top_p must be in (0, 1]"));
        assertNull(errors.get("unicode"), "CJK, emoji, RTL, combining marks, zero-width and NUL are valid");
        assertNull(errors.get("good"));
    }

    @Test
    void eachErrorRowCarriesAMachineReadableCodeForItsKind() {
        Map<String, String> codes = new HashMap<>();
        for (Row r : read(shared.resolve("out")).collectAsList()) {
            codes.put(r.getAs("source"), r.getAs("error_code"));
            assertEquals(r.getAs("error") == null, r.getAs("error_code") == null, "code and message go together");
        }
        assertEquals(ErrorCode.INVALID_INPUT, codes.get("null id"));
        assertEquals(ErrorCode.INVALID_INPUT, codes.get("empty id"));
        assertEquals(ErrorCode.DUPLICATE_ID, codes.get("duplicate id"));
        assertEquals(ErrorCode.INVALID_INPUT, codes.get("null prompt"));
        assertEquals(ErrorCode.PROMPT_TOO_LONG, codes.get("over-long prompt"));
        assertEquals(ErrorCode.INVALID_PARAMETERS, codes.get("negative max_new_tokens"));
        assertEquals(ErrorCode.INVALID_PARAMETERS, codes.get("NaN temperature"));
        assertEquals(ErrorCode.INVALID_PARAMETERS, codes.get("top_p 1.5"));
        // The summary groups them by code, most rows first.
        assertEquals(List.of(ErrorCode.INVALID_PARAMETERS, ErrorCode.INVALID_INPUT, ErrorCode.DUPLICATE_ID,
                ErrorCode.PROMPT_TOO_LONG), mixedRun.errorKinds().stream().map(JobSummary.ErrorKind::code).toList());
        assertEquals(4, mixedRun.errorKinds().get(0).rows());
    }

    @Test
    void rowsSayWithWhichResolvedParametersRunAndCacheTheyWereGeneratedAndWhen() {
        Map<String, Row> out = byKey(read(shared.resolve("out")));
        Row good = out.get("good-1#1");
        Row sampling = good.getAs("sampling");
        PipelineConfig.SamplingDefaults d = TestSpark.config().sampling();
        assertEquals(d.maxNewTokens(), sampling.<Integer>getAs("max_new_tokens"), "a null max_new_tokens took the job default");
        assertEquals(d.temperature(), sampling.<Double>getAs("temperature"), "a null temperature took the job default");
        assertEquals(d.topP(), sampling.<Double>getAs("top_p"));
        assertEquals(StableHash.derivedSeed(TestSpark.config().jobSeed(), "good-1#1"), sampling.<Long>getAs("seed"));
        assertNull(good.getAs("kv_params"), "fp16 has no quantizer settings");
        assertNull(good.getAs("stop_matched"));
        assertEquals(mixedRun.runId(), good.getAs("run_id"));
        java.sql.Timestamp started = good.getAs("started_at"), finished = good.getAs("finished_at");
        assertTrue(!finished.before(started), started + " .. " + finished);
        assertNull(out.get("top-p-big#1").getAs("sampling"), "parameters that cannot be resolved are not shown as used");
    }

    @Test
    void aCompletionEndedByAStopStringSaysWhichAndAQuantizedRunItsCacheSettings() {
        // A stop list of common characters: the completion ends at the first one the model writes.
        List<String> stops = List.of("\n", " ", "(", ":", ")", "e", "t", "a", "i", "o", "s", "=", ".", ",");
        String input = TestSpark.write(spark, List.of(TestSpark.row("s", "def add(a, b):\n    return", 24, null, null,
                null, stops, "good")), tmp.resolve("in"));
        run(TestSpark.config().withKv(KvSettings.of(KvMode.KITTY)), input, tmp.resolve("out"));
        Row r = read(tmp.resolve("out")).first();
        assertEquals("stop", r.getAs("finish_reason"));
        String matched = r.getAs("stop_matched");
        assertTrue(stops.contains(matched), matched);
        assertTrue(!r.<String>getAs("completion").contains(matched), "the completion is cut before its stop string");
        Row kv = r.getAs("kv_params");
        KvSettings kitty = KvSettings.of(KvMode.KITTY);
        assertEquals(kitty.pageSize(), kv.<Integer>getAs("page_size"));
        assertEquals(kitty.boostFraction(), kv.<Double>getAs("boost_fraction"));
        assertEquals(kitty.sink(), kv.<Integer>getAs("sink"));
    }

    @Test
    void leftTruncationKeepsTheEndOfAnOverLongPromptAndGenerates() {
        String input = TestSpark.write(spark, List.of(TestSpark.ok("long", "x = 1\n".repeat(200))), tmp.resolve("in"));
        // A small prompt limit stands in for the model's 4096-token context (same rule, faster prefill).
        run(TestSpark.config().withMaxPromptTokens(64).withTruncateLeft(true), input, tmp.resolve("out"));
        Row r = read(tmp.resolve("out")).first();
        assertNull(r.getAs("error"));
        assertEquals(64, r.<Integer>getAs("prompt_tokens"));
    }

    @Test
    void aPromptOverTheConfiguredLimitIsAnErrorWithoutTruncation() {
        String input = TestSpark.write(spark, List.of(TestSpark.ok("long", "x = 1\n".repeat(200))), tmp.resolve("in"));
        run(TestSpark.config().withMaxPromptTokens(64), input, tmp.resolve("out"));
        Row r = read(tmp.resolve("out")).first();
        assertEquals("error", r.getAs("finish_reason"));
        assertTrue(r.<String>getAs("error").contains("kitty.prompt.max-tokens is 64"), r.<String>getAs("error"));
    }

    @Test
    void aSecondRunOverTheSameOutputAddsNothing() {
        JobSummary second = run(TestSpark.config(), shared.resolve("in").toString(), shared.resolve("out"));
        assertEquals(14, second.skippedRows());
        assertEquals(0, second.okRows() + second.errorRows());
        assertTrue(second.commits().isEmpty());
        assertEquals(14, read(shared.resolve("out")).count());
    }

    @Test
    void aRunKilledMidwayIsFinishedByTheNextRunWithEveryRowOnceAndCommittedWorkKept() throws Exception {
        List<Row> rows = TestSpark.goodRows(6);
        String all = TestSpark.write(spark, rows, tmp.resolve("all"));
        // The killed run: it committed the first three rows, and died while staging a commit.
        String firstHalf = TestSpark.write(spark, rows.subList(0, 3), tmp.resolve("first"));
        run(TestSpark.config(), firstHalf, tmp.resolve("out"));
        Path staging = Files.createDirectories(tmp.resolve(".out.kitty-work/staging/kitty_commit=000002"));
        Files.writeString(staging.resolve("part-00000-half-written.parquet"), "not parquet");

        JobSummary resumed = run(TestSpark.config(), all, tmp.resolve("out"));

        assertEquals(3, resumed.skippedRows());
        assertEquals(3, resumed.okRows());
        Map<String, Row> out = byKey(read(tmp.resolve("out")));
        assertEquals(6, out.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(1, out.get("good-" + i + "#1").<Integer>getAs("kitty_commit"), "committed work is not redone");
        }
        assertTrue(Files.notExists(tmp.resolve(".out.kitty-work")), "the next run cleans up the killed run's staging");
    }

    @Test
    void aChangedConfigurationRegeneratesOnlyTheRowsItChanges() {
        List<Row> rows = List.of(TestSpark.ok("default-len", "def f():\n"),
                TestSpark.row("own-len", "def g():\n", 3, null, null, null, null, "good"));
        String input = TestSpark.write(spark, rows, tmp.resolve("in"));
        run(TestSpark.config(), input, tmp.resolve("out"));
        PipelineConfig longer = TestSpark.config().withSampling(new PipelineConfig.SamplingDefaults(6, 0.0, 0, 1.0, List.of()));

        JobSummary second = run(longer, input, tmp.resolve("out"));

        assertEquals(1, second.skippedRows(), "the row with its own max_new_tokens is unchanged");
        Map<String, Row> out = byKey(read(tmp.resolve("out")));
        assertEquals(2, out.size(), "the old version of the regenerated row is gone");
        assertEquals(2, out.get("default-len#1").<Integer>getAs("kitty_commit"));
        assertEquals(1, out.get("own-len#1").<Integer>getAs("kitty_commit"));
    }

    @Test
    void retryErrorsRedoesOnlyTheErrorRows() {
        List<Row> rows = new java.util.ArrayList<>(TestSpark.goodRows(2));
        rows.add(TestSpark.row("null-prompt", null, null, null, null, null, null, "bad"));
        rows.add(TestSpark.row("negative-max", "def f():", -3, null, null, null, null, "bad"));
        rows.add(TestSpark.row("top-p-big", "def f():", null, null, 1.5, null, null, "bad"));
        String input = TestSpark.write(spark, rows, tmp.resolve("in"));
        run(TestSpark.config(), input, tmp.resolve("out"));
        PipelineConfig retry = TestSpark.config().withRun(TestSpark.config().run().withRetryErrors(true));

        JobSummary second = run(retry, input, tmp.resolve("out"));

        assertEquals(2, second.skippedRows());
        assertEquals(3, second.errorRows());
        Dataset<Row> out = read(tmp.resolve("out"));
        assertEquals(5, out.count());
        assertEquals(0, out.where(functions.col("error").isNull().and(functions.col("kitty_commit").equalTo(2))).count());
    }

    @Test
    void rowsWithoutASeedSampleTheSameWhateverThePartitioning() {
        List<Row> rows = TestSpark.goodRows(6);
        String input = TestSpark.write(spark, rows, tmp.resolve("in"));
        PipelineConfig sampled = TestSpark.config().withSampling(new PipelineConfig.SamplingDefaults(6, 0.9, 0, 0.95, List.of()));
        run(sampled.withRun(new PipelineConfig.RunSettings(1, 2, 1000, java.time.Duration.ofSeconds(5), false, java.time.Duration.ofMinutes(10))), input, tmp.resolve("a"));
        run(sampled.withRun(new PipelineConfig.RunSettings(3, 8, 2, java.time.Duration.ofSeconds(5), false, java.time.Duration.ofMinutes(10))), input, tmp.resolve("b"));
        Map<String, Row> a = byKey(read(tmp.resolve("a")));
        Map<String, Row> b = byKey(read(tmp.resolve("b")));
        for (String k : a.keySet()) {
            assertEquals(a.get(k).<String>getAs("completion"), b.get(k).<String>getAs("completion"), k);
        }
    }

    @Test
    void fidelityIsMeasuredForTheRowsChosenByIdAndNullForTheOthers() {
        String input = TestSpark.write(spark, TestSpark.goodRows(8), tmp.resolve("in"));
        run(TestSpark.config().withKv(KvSettings.of(KvMode.KIVI)), input, tmp.resolve("out"));
        for (Row r : read(tmp.resolve("out")).collectAsList()) {
            boolean chosen = StableHash.inFidelitySample(r.getAs("id"), 0.5);
            boolean generatedSomething = r.<Integer>getAs("completion_tokens") > 0;
            assertEquals(chosen && generatedSomething, r.getAs("kv_delta_nll") != null, "row " + r.getAs("id"));
        }
    }

    @Test
    void anFp16RunSpendsNothingOnRescoringAgainstItself() {
        // The shared run is fp16 with half the rows in the fidelity sample.
        Dataset<Row> out = read(shared.resolve("out")).where("error IS NULL");
        assertTrue(out.collectAsList().stream().anyMatch(r -> StableHash.inFidelitySample(r.getAs("id"), 0.5)));
        assertEquals(0, out.where("kv_delta_nll IS NOT NULL OR kv_kl IS NOT NULL OR kv_ref_mean_logprob IS NOT NULL").count());
        assertEquals(0, mixedRun.fidelityRows());
    }

    @Test
    void kittyRowsCarryTheirFidelityAgainstTheFullPrecisionCache() {
        // Prompts of ~450 tokens: after prefill the kitty cache holds key pages, so decoding reads 2-bit pages.
        String input = TestSpark.write(spark, TestSpark.goodRows(4), tmp.resolve("in"));
        PipelineConfig kitty = TestSpark.config().withFidelityFraction(1.0)
                .withKv(KvSettings.of(KvMode.KITTY));
        run(kitty, input, tmp.resolve("out"));
        for (Row r : read(tmp.resolve("out")).collectAsList()) {
            assertEquals("kitty", r.getAs("kv_mode"));
            assertNull(r.getAs("error"));
            double kl = r.<Double>getAs("kv_kl");
            double top1 = r.<Double>getAs("kv_top1_agreement");
            assertTrue(kl >= 0 && kl < 1, "KL " + kl);
            assertTrue(top1 >= 0 && top1 <= 1, "top-1 " + top1);
            assertEquals(r.<Double>getAs("completion_mean_logprob"), r.<Double>getAs("kv_ref_mean_logprob")
                    - r.<Double>getAs("kv_delta_nll"), 1e-3, "quantized logprob = reference - delta");
        }
    }
}
