package kittyspark.runtime.backend.cuda.kitty;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import kittyspark.kvquant.KeyPageLayout;
import kittyspark.kvquant.QuantConfig;
import kittyspark.kvquant.ValuePageLayout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The descriptor array and launch shape of batched page quantization. */
class KittyPageJobsTest {

    @Test
    void eachJobIsSourceThenDestinationAsLittleEndianUint64() {
        KittyPageJobs jobs = new KittyPageJobs();
        for (int i = 0; i < 40; i++) { // past the initial capacity
            jobs.add(0x7f00_0000_0000L + i * 4096L, 0x7e00_0000_1000L + i * 5760L);
        }
        byte[] b = jobs.toBytes();
        assertEquals(40 * KittyPageJobs.JOB_BYTES, b.length);
        ByteBuffer r = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 40; i++) {
            assertEquals(0x7f00_0000_0000L + i * 4096L, r.getLong());
            assertEquals(0x7e00_0000_1000L + i * 5760L, r.getLong());
        }
        assertArrayEquals(new int[] {40, 8}, KittyPageJobs.grid(jobs.count(), 8));
    }

    @Test
    void theKeyKernelHasAThreadPerChannelAndRoomForThePageAndTheScores() {
        KeyPageLayout kitty128 = QuantConfig.kitty().keyLayout(128);
        assertEquals(128, KittyPageJobs.keyThreads(kitty128));
        assertEquals(5760 + 4 * 128, KittyPageJobs.keySharedBytes(kitty128));
        KeyPageLayout golden = new KeyPageLayout(8, 8, 2); // 60 bytes, padded to 64
        assertEquals(32, KittyPageJobs.keyThreads(golden));
        assertEquals(64 + 32, KittyPageJobs.keySharedBytes(golden));
    }

    @Test
    void sharedMemoryStaysUnderTheDefault48KiBForEveryCompiledHeadDim() {
        for (int d : new int[] {64, 128}) {
            KeyPageLayout allBoosted = new KeyPageLayout(128, d, d);
            ValuePageLayout v = new ValuePageLayout(128, d);
            assertTrue(KittyPageJobs.keySharedBytes(allBoosted) <= 48 * 1024);
            assertEquals(v.bytes(), KittyPageJobs.valueSharedBytes(v));
        }
    }
}
