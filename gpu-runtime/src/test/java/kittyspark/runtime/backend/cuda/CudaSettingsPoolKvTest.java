package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which KV mode a CUDA backend sizes its pool for. */
class CudaSettingsPoolKvTest {

    @AfterEach
    void clear() {
        System.clearProperty(CudaSettings.KV_PROPERTY);
        System.clearProperty(CudaSettings.KV_BOOST_PROPERTY);
        System.clearProperty(CudaSettings.KV_SINK_PROPERTY);
    }

    @Test
    void withoutPropertiesThePoolHoldsFp16Pages() {
        assertEquals(KvSettings.of(KvMode.FP16), CudaSettings.poolKv());
        assertEquals(KvSettings.of(KvMode.FP16), new CudaSettings(0, 1, 1, 0, 0.9, Precision.SPLIT).kv());
    }

    @Test
    void aJobsQuantizedModeWithItsOverridesBecomesThePoolMode() {
        KvSettings kitty = KvSettings.of(KvMode.KITTY).withSink(16).withBoostFraction(0.2);
        CudaSettings.sizePoolFor(kitty);
        assertEquals(kitty, CudaSettings.poolKv());
    }

    @Test
    void fp16JobsAndAnExplicitChoiceAreLeftAlone() {
        CudaSettings.sizePoolFor(KvSettings.of(KvMode.FP16));
        assertNull(System.getProperty(CudaSettings.KV_PROPERTY));
        System.setProperty(CudaSettings.KV_PROPERTY, "kivi");
        CudaSettings.sizePoolFor(KvSettings.of(KvMode.KITTY));
        assertEquals(KvSettings.of(KvMode.KIVI), CudaSettings.poolKv());
    }
}
