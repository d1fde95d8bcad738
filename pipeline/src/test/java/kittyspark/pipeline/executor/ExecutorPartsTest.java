package kittyspark.pipeline.executor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The pure parts of the executor side: device choice and the derived max batch. */
class ExecutorPartsTest {

    @Test
    void maxBatchZeroIsDerivedFromTheDeviceAndKvMode() {
        kittyspark.runtime.kv.KvSettings kitty = kittyspark.runtime.kv.KvSettings.parse("kitty");
        kittyspark.runtime.kv.KvSettings fp16 = kittyspark.runtime.kv.KvSettings.parse("fp16");
        assertEquals(BatchDefaults.CPU, BatchDefaults.of(0, "cpu", kitty));
        assertEquals(BatchDefaults.CUDA_QUANTIZED, BatchDefaults.of(0, "cuda:0", kitty));
        assertEquals(BatchDefaults.CUDA_FP16, BatchDefaults.of(0, "cuda:1", fp16));
        assertEquals(48, BatchDefaults.of(48, "cuda:0", kitty), "a configured max batch wins");
    }

    @Test
    void deviceAutoUsesTheTaskGpuWithCpuFallbackAndTheCpuWithoutOne() {
        assertEquals(new DeviceChoice("cuda:1", "1", true), DeviceChoice.resolve("auto", "1"));
        assertEquals(new DeviceChoice("cpu", null, false), DeviceChoice.resolve("auto", null));
        assertEquals(new DeviceChoice("cuda:0", "0", false), DeviceChoice.resolve("cuda", "0"));
        assertEquals(new DeviceChoice("cpu", "0", false), DeviceChoice.resolve("cpu", "0"));
        assertThrows(IllegalStateException.class, () -> DeviceChoice.resolve("cuda", null));
        assertThrows(IllegalStateException.class, () -> DeviceChoice.resolve("auto", "GPU-abc"));
    }
}
