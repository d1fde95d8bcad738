package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.backend.cuda.attention.Fp16PagedCache;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.testing.ModelShapes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a device's memory is shared out, checked without a device. */
class DeviceBudgetTest {
    private static final ModelConfig LLAMA = ModelShapes.named("llama3-8b");
    private static final long GIB = 1L << 30;

    @Test
    void fp16ModeGivesTheKvFractionOfWhatWeightsAndWorkspaceLeaveToPages() {
        CudaSettings s = new CudaSettings(0, 64, 2048 + 64, 0, 0.9, Precision.BF16);
        DeviceBudget b = DeviceBudget.plan(LLAMA, s, 140 * GIB);
        long room = 140 * GIB - b.weightBytes() - b.workBytes() - DeviceBudget.DEVICE_RESERVE_BYTES;
        long perPage = Fp16PagedCache.bytesPerPage(LLAMA);
        assertEquals(16L * 1024 * 32 * 8 * 128 * 2 * 2 / 1024, perPage, "16 tokens x 32 layers x 8 kv heads x 128 x K,V x fp16");
        assertTrue(b.fp16Bytes() <= 0.9 * room && b.fp16Bytes() > 0.9 * room - 2 * perPage, "pages fill 90% of the room");
        assertEquals(0, b.quantizedBytes());
        assertTrue(b.arenaBytes() >= b.weightBytes() + b.workBytes() + b.fp16Bytes(), "the arena holds them all");
        assertEquals(2048 + 64, b.stepRows());
    }

    @Test
    void aQuantizedModeLeavesTheFp16PoolItsShareAndTheRestToPages() {
        CudaSettings s = new CudaSettings(0, 64, 2048 + 64, 48 * GIB, 0.9, Precision.BF16, KvSettings.parse("kitty"))
                .withFp16Share(0.05);
        DeviceBudget b = DeviceBudget.plan(LLAMA, s, 140 * GIB);
        assertEquals(48 * GIB - (long) (48 * GIB * 0.05), b.quantizedBytes(), "the budget less the fp16 share");
        assertTrue(b.fp16Bytes() <= 48 * GIB * 0.05 && b.fp16Bytes() > 48 * GIB * 0.05 - Fp16PagedCache.bytesPerPage(LLAMA) * 2);
    }

    @Test
    void anExplicitBudgetIsCappedByWhatTheDeviceHas() {
        CudaSettings s = new CudaSettings(0, 8, 512, 500 * GIB, 0.9, Precision.BF16);
        DeviceBudget b = DeviceBudget.plan(LLAMA, s, 40 * GIB);
        assertTrue(b.weightBytes() + b.workBytes() + b.fp16Bytes() + DeviceBudget.DEVICE_RESERVE_BYTES <= 40 * GIB);
    }
}
