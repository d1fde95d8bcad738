package kittyspark.runtime.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import kittyspark.runtime.kv.AttentionKernel;

import static kittyspark.runtime.backend.cpu.simd.Lanes.F;
import static jdk.incubator.vector.VectorOperators.ADD;
import static kittyspark.runtime.backend.cpu.simd.Lanes.L;

/**
 * Causal attention on SIMD registers: query-key dot products across the head dimension, four
 * keys at a time; the value sum with one register per run of L channels, over every visible
 * token. Softmax itself stays scalar ({@code Math.exp}, as the reference), so what differs
 * from the reference is only the order of the sums and fused multiply-adds.
 */
final class VectorAttention implements AttentionKernel {
    static final VectorAttention INSTANCE = new VectorAttention();
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

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
        float[] p = s[0];
        int body = headDim - headDim % L;
        for (int i = rowFrom; i < rowTo; i++) {
            int visible = length - n + i + 1;
            for (int g = 0; g < heads; g++) {
                int qo = qOff + i * qStride + g * headDim;
                float max = scores(keys, kvOff, kvStride, visible, headDim, body, q, qo, scale, p);
                float sum = 0f;
                for (int t = 0; t < visible; t++) {
                    p[t] = (float) Math.exp(p[t] - max);
                    sum += p[t];
                }
                float inv = 1f / sum;
                for (int t = 0; t < visible; t++) {
                    p[t] *= inv;
                }
                weightedValues(values, kvOff, kvStride, visible, headDim, body, p, out, qo);
            }
        }
    }

    /** {@code p[t] = q . k_t * scale} for t < visible; returns the largest. */
    private static float scores(float[] keys, int kvOff, int kvStride, int visible, int headDim, int body,
                                float[] q, int qo, float scale, float[] p) {
        float max = Float.NEGATIVE_INFINITY;
        FloatVector z = FloatVector.zero(F);
        int t = 0;
        for (; t + 4 <= visible; t += 4) {
            int k0 = kvOff + t * kvStride, k1 = k0 + kvStride, k2 = k1 + kvStride, k3 = k2 + kvStride;
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
            for (int d = 0; d < body; d += L) {
                FloatVector u = FloatVector.fromArray(F, q, qo + d);
                a0 = FloatVector.fromArray(F, keys, k0 + d).fma(u, a0);
                a1 = FloatVector.fromArray(F, keys, k1 + d).fma(u, a1);
                a2 = FloatVector.fromArray(F, keys, k2 + d).fma(u, a2);
                a3 = FloatVector.fromArray(F, keys, k3 + d).fma(u, a3);
            }
            float s0 = (a0.reduceLanes(ADD) + tail(q, qo, keys, k0, body, headDim)) * scale;
            float s1 = (a1.reduceLanes(ADD) + tail(q, qo, keys, k1, body, headDim)) * scale;
            float s2 = (a2.reduceLanes(ADD) + tail(q, qo, keys, k2, body, headDim)) * scale;
            float s3 = (a3.reduceLanes(ADD) + tail(q, qo, keys, k3, body, headDim)) * scale;
            p[t] = s0;
            p[t + 1] = s1;
            p[t + 2] = s2;
            p[t + 3] = s3;
            max = Math.max(max, Math.max(Math.max(s0, s1), Math.max(s2, s3)));
        }
        for (; t < visible; t++) {
            int k0 = kvOff + t * kvStride;
            FloatVector a0 = z;
            for (int d = 0; d < body; d += L) {
                a0 = FloatVector.fromArray(F, keys, k0 + d).fma(FloatVector.fromArray(F, q, qo + d), a0);
            }
            float v = (a0.reduceLanes(ADD) + tail(q, qo, keys, k0, body, headDim)) * scale;
            p[t] = v;
            max = Math.max(max, v);
        }
        return max;
    }

    /** {@code out[oo + d] = sum_t p[t] * v_t[d]}. */
    private static void weightedValues(float[] values, int kvOff, int kvStride, int visible, int headDim, int body,
                                       float[] p, float[] out, int oo) {
        for (int d = 0; d < body; d += L) {
            FloatVector acc = FloatVector.zero(F);
            int vo = kvOff + d;
            for (int t = 0; t < visible; t++, vo += kvStride) {
                acc = FloatVector.fromArray(F, values, vo).fma(FloatVector.broadcast(F, p[t]), acc);
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

    private static float tail(float[] q, int qo, float[] k, int ko, int body, int headDim) {
        float t = 0f;
        for (int d = body; d < headDim; d++) {
            t += q[qo + d] * k[ko + d];
        }
        return t;
    }
}
