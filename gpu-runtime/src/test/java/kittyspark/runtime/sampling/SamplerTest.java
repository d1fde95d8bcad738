package kittyspark.runtime.sampling;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    static final float[] LOGITS = {0.1f, 2.0f, 1.9f, -1f, 0.5f};

    @Test
    void greedyPicksTheArgmax() {
        assertEquals(1, new Sampler(SamplingParams.greedy(1)).next(LOGITS, 0, LOGITS.length));
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        Sampler s = new Sampler(new SamplingParams(1, 5.0, 1, 1.0, 9, List.of()));
        for (int i = 0; i < 50; i++) {
            assertEquals(1, s.next(LOGITS, 0, LOGITS.length));
        }
    }

    @Test
    void tinyTopPKeepsOnlyTheMostLikelyToken() {
        Sampler s = new Sampler(new SamplingParams(1, 1.0, 0, 1e-6, 3, List.of()));
        for (int i = 0; i < 50; i++) {
            assertEquals(1, s.next(LOGITS, 0, LOGITS.length));
        }
    }

    @Test
    void topPNeverPicksOutsideTheNucleus() {
        // p(1) and p(2) are ~0.40 and ~0.36 of the mass: a 0.7 nucleus holds exactly those two.
        Sampler s = new Sampler(new SamplingParams(1, 1.0, 0, 0.7, 11, List.of()));
        for (int i = 0; i < 200; i++) {
            int t = s.next(LOGITS, 0, LOGITS.length);
            assertTrue(t == 1 || t == 2, "picked " + t);
        }
    }

    @Test
    void samplingFollowsTheDistribution() {
        Sampler s = new Sampler(new SamplingParams(1, 1.0, 0, 1.0, 5, List.of()));
        int[] counts = new int[LOGITS.length];
        int n = 20000;
        for (int i = 0; i < n; i++) {
            counts[s.next(LOGITS, 0, LOGITS.length)]++;
        }
        double z = 0;
        for (float l : LOGITS) {
            z += Math.exp(l);
        }
        for (int i = 0; i < LOGITS.length; i++) {
            assertEquals(Math.exp(LOGITS[i]) / z, counts[i] / (double) n, 0.015, "token " + i);
        }
    }

    @Test
    void candidatesAreOrderedAsAStableDescendingSortByFloatCompare() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(17);
        float[] special = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE, -Float.MIN_VALUE};
        for (int trial = 0; trial < 200; trial++) {
            int vocab = 1 + rnd.nextInt(3000);
            float[] logits = new float[vocab + 3];
            for (int i = 0; i < logits.length; i++) {
                int kind = rnd.nextInt(10);
                // Ties (a few distinct values), special values and ordinary logits of both signs.
                logits[i] = kind == 0 ? special[rnd.nextInt(special.length)]
                        : kind < 4 ? rnd.nextInt(5) - 2f
                        : (float) (rnd.nextGaussian() * 8);
            }
            Integer[] expected = new Integer[vocab];
            for (int i = 0; i < vocab; i++) {
                expected[i] = i;
            }
            java.util.Arrays.sort(expected, (a, b) -> Float.compare(logits[3 + b], logits[3 + a]));
            int[] got = Sampler.byLogitDescending(logits, 3, vocab);
            for (int i = 0; i < vocab; i++) {
                assertEquals(expected[i], got[i], "trial " + trial + " rank " + i);
            }
        }
    }

    @Test
    void invalidParametersAreRejectedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1, 0, 0, 1, 0, null))
                .getMessage().contains("max_new_tokens"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, Double.NaN, 0, 1, 0, null))
                .getMessage().contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, 0, 0, 0, null))
                .getMessage().contains("top_p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, 0, 1.5, 0, null))
                .getMessage().contains("top_p"));
    }
}
