package kittyspark.checks.cuda;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhiloxTest {
    @Test
    void matchesTheRandom123KnownAnswers() {
        // Random123 kat_vectors: philox4x32 10 rounds
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, Philox.block(0, 0, 0, 0, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                Philox.block(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox.block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    @Test
    void aDrawDependsOnlyOnSeedAndTokenIndex() {
        assertEquals(Philox.uniform(42, 7), Philox.uniform(42, 7));
        assertNotEquals(Philox.uniform(42, 7), Philox.uniform(42, 8));
        assertNotEquals(Philox.uniform(42, 7), Philox.uniform(43, 7));
    }

    @Test
    void drawsAreUniformInTheUnitInterval() {
        int[] bins = new int[10];
        for (int i = 0; i < 100_000; i++) {
            float u = Philox.uniform(99, i);
            assertTrue(u >= 0f && u < 1f);
            bins[(int) (u * 10)]++;
        }
        for (int b : bins) {
            assertTrue(Math.abs(b - 10_000) < 500, "bin count " + b);
        }
    }

    @Test
    void theSamplerMirrorKeepsTopKAndTopPAndIsGreedyAtTemperatureZero() {
        SplittableRandom rnd = new SplittableRandom(2);
        float[] logits = new float[300];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) rnd.nextGaussian();
        }
        logits[123] = 9f;
        logits[7] = 8.5f;
        assertEquals(123, SamplerMirror.pick(logits, 0, 300, 0f, 0, 1f, 1, 0));
        assertEquals(123, SamplerMirror.pick(logits, 0, 300, 1f, 1, 1f, 1, 5));
        for (int i = 0; i < 200; i++) {
            int t = SamplerMirror.pick(logits, 0, 300, 1f, 2, 1f, 5, i);
            assertTrue(t == 123 || t == 7);
            assertEquals(123, SamplerMirror.pick(logits, 0, 300, 1f, 0, 0.5f, 5, i)); // 123 alone holds > half the mass
        }
    }
}
