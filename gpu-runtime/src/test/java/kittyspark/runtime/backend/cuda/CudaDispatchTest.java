package kittyspark.runtime.backend.cuda;

import java.nio.file.Files;

import kittyspark.runtime.backend.cuda.driver.CudaUnavailableException;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.engine.Backends;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.testing.ModelShapes;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CudaDispatchTest {
    private static boolean hasNvidiaDriver() {
        return Files.exists(java.nio.file.Path.of("/dev/nvidiactl"));
    }

    @Test
    void cudaDeviceWithoutADriverFailsWithAClearMessage() {
        Assumptions.assumeFalse(hasNvidiaDriver(), "this machine has an NVIDIA driver");
        Checkpoint ckpt = Checkpoint.open(TestData.demoModel());
        EngineOptions o = EngineOptions.cpu(TestData.demoModel()).withDevice("cuda:0");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> Backends.open(ckpt, o));
        assertTrue(e.getMessage().contains("use --device cpu"), e.getMessage());
    }

    @Test
    void settingsFromEngineOptionsHoldAPrefillChunkPlusADecodeRowPerSequence() {
        EngineOptions o = EngineOptions.cpu(TestData.demoModel()).withDevice("cuda:3").withMaxBatch(32);
        CudaSettings s = CudaSettings.of(o.device(), o.maxBatch(), o.prefillChunk(), o.kvBudgetBytes(), o.cuda(), ModelShapes.named("llama3-8b"));
        assertEquals(3, s.ordinal());
        assertEquals(2048 + 32, s.maxStepTokens());
        assertEquals(CudaSettings.DEFAULT_KV_FRACTION, s.kvFraction());
    }

    @Test
    void precisionIsSplitBelowOneBillionParametersAndBf16Above() {
        assertEquals(Precision.BF16, Precision.resolve("auto", ModelShapes.named("llama3-8b")));
        assertEquals(Precision.SPLIT, Precision.resolve("auto", Checkpoint.open(TestData.demoModel()).config()));
        assertEquals(8_030_261_248L, Precision.parameters(ModelShapes.named("llama3-8b")));
    }
}
