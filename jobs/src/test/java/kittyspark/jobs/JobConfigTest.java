package kittyspark.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import kittyspark.jobs.generate.JobConfig;
import kittyspark.pipeline.PipelineConfig;
import kittyspark.runtime.kv.KvMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobConfigTest {
    static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    @Test
    void defaultsComeFromReferenceConf() {
        PipelineConfig c = JobConfig.load(null, List.of()).pipeline(Path.of("m"), null);
        assertEquals("m", c.modelDir());
        assertEquals(128, c.sampling().maxNewTokens());
        assertEquals(KvMode.KITTY, c.kv().mode());
        assertEquals(0.05, c.fidelityFraction());
        assertEquals("auto", c.engine().device());
    }

    @Test
    void setOverridesAKeyWithOrWithoutTheKittyPrefix() {
        PipelineConfig c = JobConfig.load(null, List.of("sampling.max-new-tokens=7", "kitty.engine.device=cuda:1",
                "input.id-column=doc_id")).pipeline(Path.of("m"), null);
        assertEquals(7, c.sampling().maxNewTokens());
        assertEquals("cuda:1", c.engine().device());
        assertEquals("doc_id", c.columns().id());
    }

    @Test
    void theCudaTuningIsTheJobsOwnAndBadValuesNameTheirKey() {
        PipelineConfig c = JobConfig.load(null, List.of("engine.cuda.precision=bf16", "engine.cuda.kv-fraction=0.6",
                "engine.cuda.fp16-share=0", "engine.cuda.reference-tokens=8704", "engine.cuda.cublas=false"))
                .pipeline(Path.of("m"), null);
        assertEquals("bf16", c.engine().cuda().precision());
        assertEquals(0.6, c.engine().cuda().kvFraction());
        assertEquals(0.0, c.engine().cuda().fp16Share());
        assertEquals(8704, c.engine().cuda().referenceTokens());
        assertFalse(c.engine().cuda().cublas());
        var e = assertThrows(JobConfig.ConfigError.class,
                () -> JobConfig.load(null, List.of("engine.cuda.precision=fp8")).pipeline(Path.of("m"), null));
        assertTrue(e.getMessage().contains("kitty.engine.cuda.precision"), e.getMessage());
    }

    @Test
    void theExampleConfigsInConfAreValid() {
        JobConfig.load(REPO.resolve("conf/local.conf"), List.of()).pipeline(Path.of("m"), null);
        PipelineConfig cluster = JobConfig.load(REPO.resolve("conf/cluster-gpu.conf"), List.of("kv.mode=fp16"))
                .pipeline(Path.of("m"), null);
        assertEquals("cuda", cluster.engine().device());
    }

    @Test
    void anUnknownKeyFailsNamingItAndTheLikelyIntendedKey() {
        var e = assertThrows(JobConfig.ConfigError.class, () -> JobConfig.load(null, List.of("sampling.max-new-token=7")));
        assertTrue(e.getMessage().contains("'kitty.sampling.max-new-token'"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'kitty.sampling.max-new-tokens'"), e.getMessage());
    }

    @Test
    void anUnknownKeyInAConfFileFails() throws Exception {
        Path f = tmp.resolve("bad.conf");
        Files.writeString(f, "kitty { engine { devise = cpu } }");
        var e = assertThrows(JobConfig.ConfigError.class, () -> JobConfig.load(f, List.of()));
        assertTrue(e.getMessage().contains("kitty.engine.devise"), e.getMessage());
    }

    @Test
    void aBadValueFailsNamingTheKey() {
        assertMessage("kitty.sampling.max-new-tokens", "sampling.max-new-tokens=lots");
        assertMessage("kitty.sampling", "sampling.top-p=1.5");
        assertMessage("kitty.kv.mode", "kv.mode=int3");
        assertMessage("kitty.engine.device", "engine.device=tpu");
        assertMessage("kitty.fidelity.fraction", "fidelity.fraction=2");
        assertMessage("kitty.run.commit-rows", "run.commit-rows=0");
        assertMessage("kitty.prompt.truncate", "prompt.truncate=right");
        assertMessage("kitty.run.progress-interval", "run.progress-interval=soon");
        assertMessage("kitty.run.max-error-rate", "run.max-error-rate=1.5");
        assertMessage("kitty.spark.executor-wait", "spark.executor-wait=0s");
    }

    @Test
    void anIntegerKeyRefusesAFractionOrANumberBeyondItsRangeInsteadOfCuttingIt() {
        var fraction = assertThrows(JobConfig.ConfigError.class, () -> JobConfig.load(null, List.of("run.commit-rows=1.5")));
        assertTrue(fraction.getMessage().contains("kitty.run.commit-rows must be a whole number, got 1.5"), fraction.getMessage());
        var huge = assertThrows(JobConfig.ConfigError.class, () -> JobConfig.load(null, List.of("sampling.seed=1e20")));
        assertTrue(huge.getMessage().contains("kitty.sampling.seed must fit in a 64-bit integer"), huge.getMessage());
        assertEquals(3000, JobConfig.load(null, List.of("run.commit-rows=3000")).pipeline(Path.of("m"), null).run().commitRows());
    }

    @Test
    void theModelDigestAndTheLockStaleTimeAreRead() {
        PipelineConfig c = JobConfig.load(null, List.of("model-digest=sampled", "run.lock-stale-after=2m"))
                .pipeline(Path.of("m"), null);
        assertEquals(PipelineConfig.WeightsDigest.SAMPLED, c.weightsDigest());
        assertEquals(java.time.Duration.ofMinutes(2), c.run().lockStaleAfter());
        assertEquals(PipelineConfig.WeightsDigest.FULL, JobConfig.load(null, List.of()).pipeline(Path.of("m"), null).weightsDigest());
        assertMessage("kitty.model-digest", "model-digest=headers");
    }

    @Test
    void aMissingConfFileFailsSayingSo() {
        var e = assertThrows(JobConfig.ConfigError.class, () -> JobConfig.load(tmp.resolve("nope.conf"), List.of()));
        assertTrue(e.getMessage().contains("does not exist"));
    }

    @Test
    void sparkSettingsPassThroughUnderSparkConf() {
        JobConfig c = JobConfig.load(null, List.of("spark.conf.\"spark.executor.memory\"=3g"));
        assertEquals("3g", c.sparkConf().get("spark.executor.memory").value());
        assertTrue(c.sparkConf().get("spark.executor.memory").origin().contains("--set"), "it says where it was set");
    }

    @Test
    void theClusterConfsSayWhereEachSparkSettingComesFrom() {
        JobConfig c = JobConfig.load(REPO.resolve("conf/cluster-cpu.conf"), List.of());
        String origin = c.sparkConf().get("spark.executor.memory").origin();
        assertTrue(origin.contains("kitty.spark.conf in") && origin.contains("cluster-cpu.conf"), origin);
        assertEquals("cpu", c.pipeline(Path.of("m"), null).engine().device());
    }

    @Test
    void everyKeyIsDocumented() throws Exception {
        String doc = Files.readString(REPO.resolve("docs/config.md"));
        for (String key : JobConfigKeys.all()) {
            assertTrue(doc.contains("`" + key + "`"), "docs/config.md lacks " + key);
        }
    }

    private static void assertMessage(String key, String set) {
        var e = assertThrows(JobConfig.ConfigError.class, () -> JobConfig.load(null, List.of(set)));
        assertTrue(e.getMessage().contains(key), set + " -> " + e.getMessage());
    }
}
