package kittyspark.kvquant;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizerTest {

    /**
     * Every element comes back within half a quantization step, plus the slack of storing the
     * group's scale and minimum in fp16 (the grid moves by at most |min - stored min| and
     * levels * |scale - stored scale|, each at most half an fp16 ulp).
     */
    @Test
    void roundTripErrorIsAtMostHalfAScaleStep() {
        SplittableRandom rnd = new SplittableRandom(3);
        KeyPageLayout keys = new KeyPageLayout(128, 64, 16);
        ValuePageLayout values = new ValuePageLayout(128, 64);
        for (int trial = 0; trial < 20; trial++) {
            float[] x = new float[128 * 64];
            double spread = Math.pow(10, rnd.nextDouble(-3, 2));
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() * spread + rnd.nextDouble(-1, 1));
            }
            float[] back = new float[x.length];
            byte[] kp = new byte[keys.bytes()];
            keys.quantize(x, 0, 64, kp, 0);
            keys.dequantize(kp, 0, back, 0, 64);
            for (int t = 0; t < 128; t++) {
                for (int d = 0; d < 64; d++) {
                    float scale = keys.scale(kp, 0, d);
                    assertTrue(Math.abs(x[t * 64 + d] - back[t * 64 + d]) <= scale / 2 + fp16Slack(scale, keys.min(kp, 0, d), 15),
                            "key t=" + t + " d=" + d);
                }
            }
            byte[] vp = new byte[values.bytes()];
            values.quantize(x, 0, 64, vp, 0);
            values.dequantize(vp, 0, back, 0, 64);
            for (int t = 0; t < 128; t++) {
                float scale = values.scale(vp, 0, t);
                for (int d = 0; d < 64; d++) {
                    assertTrue(Math.abs(x[t * 64 + d] - back[t * 64 + d]) <= scale / 2 + fp16Slack(scale, values.min(vp, 0, t), 3),
                            "value t=" + t + " d=" + d);
                }
            }
        }
    }

    private static float fp16Slack(float scale, float min, int levels) {
        float halfUlpScale = Math.abs(scale) * 0x1p-11f;
        float halfUlpMin = Math.max(Math.abs(min) * 0x1p-11f, 0x1p-25f);
        return levels * halfUlpScale + halfUlpMin + 1e-6f;
    }

    @Test
    void aConstantGroupUsesTheScaleFloorAndComesBackExactlyToFp16() {
        AsymmetricQuantizer.Params p = AsymmetricQuantizer.params(0.7f, 0.7f, 2);
        assertEquals(Fp16.round(1e-6f), p.scale());
        assertEquals(Fp16.round(0.7f), p.min());
        int q = AsymmetricQuantizer.quantize(0.7f, p.scale(), p.min(), 2);
        assertEquals(Fp16.round(0.7f), AsymmetricQuantizer.dequantize(q, p.scale(), p.min()), 1e-6f);
    }

    @Test
    void codesAreClampedToTheBitWidth() {
        assertEquals(3, AsymmetricQuantizer.quantize(100f, 1f, 0f, 2));
        assertEquals(0, AsymmetricQuantizer.quantize(-100f, 1f, 0f, 2));
        assertEquals(15, AsymmetricQuantizer.quantize(100f, 1f, 0f, 4));
    }

    @Test
    void halfwayRoundsUp() {
        assertEquals(1, AsymmetricQuantizer.quantize(0.5f, 1f, 0f, 2));
        assertEquals(2, AsymmetricQuantizer.quantize(1.5f, 1f, 0f, 2));
    }

    @Test
    void selectionPicksTheLargestMeanMagnitudesInRankOrder() {
        int p = 4;
        int d = 6;
        float[] k = new float[p * d];
        float[] magnitude = {0.1f, 5f, -0.2f, 3f, -7f, 1f};
        for (int t = 0; t < p; t++) {
            for (int c = 0; c < d; c++) {
                k[t * d + c] = magnitude[c] * (t % 2 == 0 ? 1 : -1);
            }
        }
        assertArrayEquals(new int[] {4, 1, 3}, ChannelBoost.select(k, 0, d, p, d, 3));
    }

    @Test
    void tiesGoToTheLowerChannelIndex() {
        float[] k = {1f, 2f, 2f, 1f, 2f};
        assertArrayEquals(new int[] {1, 2}, ChannelBoost.select(k, 0, 5, 1, 5, 2));
    }

    @Test
    void fp16RoundingIsToNearestEven() {
        assertEquals(1.0f, Fp16.round(1.0f + 0x1p-11f), "halfway between 1 and 1+2^-10 goes to the even 1");
        assertEquals(1.0f + 0x1p-9f, Fp16.round(1.0f + 0x1p-10f + 0x1p-11f), "halfway to an odd mantissa goes up");
        assertEquals(65504f, Fp16.round(65504f));
        assertEquals(Float.POSITIVE_INFINITY, Fp16.round(65520f));
        assertEquals(0x1p-24f, Fp16.round(0x1p-24f), "smallest subnormal");
        assertEquals(0f, Fp16.round(0x1p-26f));
    }
}
