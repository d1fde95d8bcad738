package kittyspark.runtime.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import kittyspark.kvquant.ReferenceAttention;
import kittyspark.runtime.kv.AttentionKernel;

import static kittyspark.runtime.backend.cpu.simd.Lanes.F;
import static kittyspark.runtime.backend.cpu.simd.Lanes.F4;
import static kittyspark.runtime.backend.cpu.simd.Lanes.L;

/**
 * Causal attention on SIMD registers, bit for bit {@link ReferenceAttention}: a query-key dot
 * product's four partial sums (channels 0, 1, 2, 3 mod 4) are the four lanes of a 128-bit
 * register, four keys in flight; the value sum holds L channels per register, each summing its
 * tokens in order. Softmax (max, {@code Math.exp}, the sum) is the reference's scalar code.
 */
final class VectorAttention implements AttentionKernel {
    static final VectorAttention INSTANCE = new VectorAttention();
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {
            new float[0], new float[16]});

    private VectorAttention() {
    }

    @Override
    public void causalRows(float[] keys, int kvOff, int kvStride, float[] values, int length, int headDim,
                           float[] q, int qOff, int qStride, int heads, int n, int rowFrom, int rowTo, float[] out) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[][] s = SCRATCH.get();
        if (s[0].length < length) {
            s[0] = new float[length];
        }
        float[] scores = s[0];
        float[] lanes = s[1];
        for (int i = rowFrom; i < rowTo; i++) {
            int visible = length - n + i + 1;
            for (int g = 0; g < heads; g++) {
                int qo = qOff + i * qStride + g * headDim;
                float max = scores(keys, kvOff, kvStride, visible, headDim, q, qo, scale, scores, lanes);
                float sum = 0f;
                for (int t = 0; t < visible; t++) {
                    scores[t] = (float) Math.exp(scores[t] - max);
                    sum += scores[t];
                }
                float inv = 1f / sum;
                for (int t = 0; t < visible; t++) {
                    scores[t] *= inv;
                }
                weightedValues(values, kvOff, kvStride, visible, headDim, scores, out, qo);
            }
        }
    }

    /** {@code scores[t] = dot(q, k_t) * scale} for t < visible, as the reference sums it; returns the largest. */
    private static float scores(float[] keys, int kvOff, int kvStride, int visible, int headDim,
                                float[] q, int qo, float scale, float[] scores, float[] lanes) {
        int body = headDim - headDim % 4;
        float max = Float.NEGATIVE_INFINITY;
        int t = 0;
        for (; t + 4 <= visible; t += 4) {
            int k0 = kvOff + t * kvStride, k1 = k0 + kvStride, k2 = k1 + kvStride, k3 = k2 + kvStride;
            FloatVector a0 = FloatVector.zero(F4), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < body; d += 4) {
                FloatVector u = FloatVector.fromArray(F4, q, qo + d);
                a0 = a0.add(u.mul(FloatVector.fromArray(F4, keys, k0 + d)));
                a1 = a1.add(u.mul(FloatVector.fromArray(F4, keys, k1 + d)));
                a2 = a2.add(u.mul(FloatVector.fromArray(F4, keys, k2 + d)));
                a3 = a3.add(u.mul(FloatVector.fromArray(F4, keys, k3 + d)));
            }
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, 4);
            a2.intoArray(lanes, 8);
            a3.intoArray(lanes, 12);
            for (int j = 0; j < 4; j++) {
                float v = finishDot(lanes, 4 * j, q, qo, keys, kvOff + (t + j) * kvStride, body, headDim) * scale;
                scores[t + j] = v;
                max = Math.max(max, v);
            }
        }
        for (; t < visible; t++) {
            int k0 = kvOff + t * kvStride;
            FloatVector a0 = FloatVector.zero(F4);
            for (int d = 0; d < body; d += 4) {
                a0 = a0.add(FloatVector.fromArray(F4, q, qo + d).mul(FloatVector.fromArray(F4, keys, k0 + d)));
            }
            a0.intoArray(lanes, 0);
            float v = finishDot(lanes, 0, q, qo, keys, k0, body, headDim) * scale;
            scores[t] = v;
            max = Math.max(max, v);
        }
        return max;
    }

    /** The reference dot's end: leftover channels into the first sum, then {@code (s0 + s1) + (s2 + s3)}. */
    private static float finishDot(float[] lanes, int at, float[] q, int qo, float[] k, int ko, int body, int headDim) {
        float s0 = lanes[at];
        for (int d = body; d < headDim; d++) {
            s0 += q[qo + d] * k[ko + d];
        }
        return (s0 + lanes[at + 1]) + (lanes[at + 2] + lanes[at + 3]);
    }

    /** {@code out[oo + d] = sum over t, in order, of p[t] * v_t[d]}. */
    private static void weightedValues(float[] values, int kvOff, int kvStride, int visible, int headDim,
                                       float[] p, float[] out, int oo) {
        int body = headDim - headDim % L;
        for (int d = 0; d < body; d += L) {
            FloatVector acc = FloatVector.zero(F);
            int vo = kvOff + d;
            for (int t = 0; t < visible; t++, vo += kvStride) {
                acc = acc.add(FloatVector.fromArray(F, values, vo).mul(p[t]));
            }
            acc.intoArray(out, oo + d);
        }
        for (int d = body; d < headDim; d++) {
            float acc = 0f;
            for (int t = 0; t < visible; t++) {
                acc += p[t] * values[kvOff + t * kvStride + d];
            }
            out[oo + d] = acc;
        }
    }
}
