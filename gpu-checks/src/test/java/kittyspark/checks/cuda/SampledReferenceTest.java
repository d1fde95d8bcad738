package kittyspark.checks.cuda;

import java.util.Arrays;
import java.util.SplittableRandom;

import kittyspark.runtime.checkpoint.SafetensorsWriter;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SampledReferenceTest {
    private static short[] bf16(float... v) {
        short[] s = new short[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = SafetensorsWriter.toBf16(v[i]);
        }
        return s;
    }

    @Test
    void theReferenceIsTheDotProductOfHiPlusLoWithEachWeightRowPlusWhatOutHeld() {
        short[][] hi = {bf16(1, 2, -1)};
        short[][] lo = {bf16(0.5f, 0, 0.25f)};
        short[][] w = {bf16(1, 1, 1), bf16(2, 0, -4)};
        assertArrayEquals(new double[] {2, 6}, SampledReference.compute(hi, null, w, 0)[0]);
        assertArrayEquals(new double[] {2.75 + 10, 6 + 10}, SampledReference.compute(hi, lo, w, 10)[0]);
    }

    @Test
    void samplesKeepBothEdgesAndAreDistinctAndSorted() {
        int[] s = SampledReference.sample(151936, 64, 8, new SplittableRandom(1));
        assertEquals(64, s.length);
        assertEquals(64, Arrays.stream(s).distinct().count());
        for (int i = 0; i < 8; i++) {
            assertEquals(i, s[i]);
            assertEquals(151936 - 8 + i, s[56 + i]);
        }
        for (int i = 1; i < s.length; i++) {
            assertTrue(s[i - 1] < s[i]);
        }
        assertArrayEquals(new int[] {0, 1, 2}, SampledReference.sample(3, 16, 1, new SplittableRandom(1)), "all when few");
    }

    @Test
    void anUnwrittenColumnAnywhereInASampledRowFailsTheComparison() {
        double[][] ref = {{1, 2}};
        int[] cols = {0, 2};
        assertEquals(0, SampledReference.relativeError(new float[][] {{1, 7, 2}}, cols, ref), 1e-12,
                "unsampled columns only need to be finite");
        assertEquals(Math.sqrt(0.01 / 5), SampledReference.relativeError(new float[][] {{1.1f, 0, 2}}, cols, ref), 1e-7);
        assertEquals(Double.POSITIVE_INFINITY, SampledReference.relativeError(new float[][] {{1, Float.NaN, 2}}, cols, ref));
    }
}
