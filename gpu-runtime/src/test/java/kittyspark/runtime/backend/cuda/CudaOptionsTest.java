package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.testing.ModelShapes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA tuning travels with each engine's options; nothing is read from JVM-wide properties. */
class CudaOptionsTest {
    @Test
    void eachEnginesOptionsBecomeItsSettings() {
        KvSettings kitty = KvSettings.parse("kitty").withSink(16);
        CudaOptions o = CudaOptions.DEFAULTS.withPoolKv(kitty).withPrecision("BF16").withKvFraction(0.5).withFp16Share(0.1)
                .withReferenceTokens(8704).withCublas(false);
        CudaSettings s = CudaSettings.of("cuda:1", 32, 2048, 0, o, ModelShapes.named("llama3-8b"));
        assertEquals(1, s.ordinal());
        assertEquals(2048 + 32, s.maxStepTokens());
        assertEquals(kitty, s.kv());
        assertEquals(Precision.BF16, s.precision());
        assertEquals(0.5, s.kvFraction());
        assertEquals(0.1, s.fp16Share());
        assertEquals(8704, s.referenceTokens());
        assertEquals(false, s.cublas());
        // Another engine in the same JVM keeps its own choices.
        CudaSettings other = CudaSettings.of("cuda:0", 8, 512, 0, CudaOptions.DEFAULTS, ModelShapes.named("llama3-8b"));
        assertEquals(KvSettings.parse("fp16"), other.kv());
        assertTrue(other.cublas());
    }

    @Test
    void badValuesNameTheirKey() {
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> CudaOptions.DEFAULTS.withPrecision("fp8"));
        assertTrue(p.getMessage().contains("kitty.engine.cuda.precision"), p.getMessage());
        IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> CudaOptions.DEFAULTS.withKvFraction(1.5));
        assertTrue(f.getMessage().contains("kitty.engine.cuda.kv-fraction"), f.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> CudaSettings.of("gpu0", 8, 512, 0, CudaOptions.DEFAULTS, ModelShapes.named("llama3-8b")));
        assertTrue(d.getMessage().contains("cuda:N"), d.getMessage());
    }
}
