package kittyspark.runtime.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import kittyspark.runtime.kv.AttentionKernel;

import static kittyspark.runtime.backend.cpu.simd.Lanes.F;
import static kittyspark.runtime.backend.cpu.simd.Lanes.L;

/**
 * Causal attention on SIMD registers, bit for bit {@link ReferenceAttention}: a query-key dot
 * product's four partial sums (channels 0, 1, 2, 3 mod 4) sit in four lanes, L/4 keys to a
 * register (the keys regrouped once per call, for all its query rows and the heads that share
 * them, so those lanes load contiguously: the JDK 17 gather checks its indexes in plain Java);
 * the value sum
 * holds L channels per register, each summing its tokens in order, the heads of a query row
 * together.
 * Softmax (max, {@code Math.exp}, the sum) is the reference's scalar code. Only the preferred
 * register width is used: a second width in the same JVM makes the JIT's calls into the
 * Vector API polymorphic, and the vectors then live on the heap.
 */
final class VectorAttention implements AttentionKernel {
    static final VectorAttention INSTANCE = new VectorAttention();
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private VectorAttention() {
    }

    @Override
    public void causalRows(float[] keys, int kvOff, int kvStride, float[] values, int length, int headDim,
                           float[] q, int qOff, int qStride, int heads, int n, int rowFrom, int rowTo, float[] out) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        Scratch s = SCRATCH.get();
        // One row of probabilities per head: the heads' value sums then run together.
        float[] scores = s.scores(heads * length);
        float[] kp = groupKeys(keys, kvOff, kvStride, length, headDim / 4, s);
        for (int i = rowFrom; i < rowTo; i++) {
            int visible = length - n + i + 1;
            int qi = qOff + i * qStride;
            for (int g = 0; g < heads; g++) {
                int so = g * length;
                float max = scores(keys, kvOff, kvStride, kp, visible, headDim, q, qi + g * headDim, scale, scores, so, s);
                float sum = 0f;
                for (int t = so; t < so + visible; t++) {
                    scores[t] = (float) Math.exp(scores[t] - max);
                    sum += scores[t];
                }
                float inv = 1f / sum;
                for (int t = so; t < so + visible; t++) {
                    scores[t] *= inv;
                }
            }
            weightedValues(values, kvOff, kvStride, visible, headDim, scores, length, heads, out, qi);
        }
    }

    /**
     * The keys of [0, length) regrouped for {@link #scores}: {@code per = L/4} keys to a group,
     * and within group g, run c (channels 4c..4c+3) of key j at {@code [(g * runs + c) * L + 4j]}.
     * One copy per call serves every query row and head of the call.
     */
    private static float[] groupKeys(float[] keys, int kvOff, int kvStride, int length, int runs, Scratch s) {
        int per = L / 4;
        int groups = length / per;
        float[] kp = s.keyGroups(groups * runs * L);
        for (int g = 0; g < groups; g++) {
            for (int j = 0; j < per; j++) {
                int src = kvOff + (g * per + j) * kvStride;
                int dst = g * runs * L + 4 * j;
                for (int c = 0; c < runs; c++, src += 4, dst += L) {
                    kp[dst] = keys[src];
                    kp[dst + 1] = keys[src + 1];
                    kp[dst + 2] = keys[src + 2];
                    kp[dst + 3] = keys[src + 3];
                }
            }
        }
        return kp;
    }

    /**
     * {@code scores[so + t] = dot(q, k_t) * scale} for t < visible, as the reference sums it;
     * returns the largest. Lane {@code 4j + m} of a register is partial sum m of key j of a
     * group: the grouped keys' runs times q's run, repeated L/4 times. Eight groups at a time
     * keep eight independent chains of adds in flight (four leave half the adders idle, each
     * add waiting on the one before).
     */
    private static float scores(float[] keys, int kvOff, int kvStride, float[] kp, int visible, int headDim,
                                float[] q, int qo, float scale, float[] scores, int so, Scratch s) {
        int per = L / 4;
        int body = headDim - headDim % 4;
        int runs = body / 4;
        int step = runs * L;
        float[] qrep = s.qrep(step);
        repeatRuns(q, qo, runs, qrep);
        float[] lanes = s.lanes;
        float max = Float.NEGATIVE_INFINITY;
        int groups = visible / per;
        int g = 0;
        for (; g + 8 <= groups; g += 8) {
            int k0 = g * step, k1 = k0 + step, k2 = k1 + step, k3 = k2 + step;
            int k4 = k3 + step, k5 = k4 + step, k6 = k5 + step, k7 = k6 + step;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int c = 0; c < step; c += L) {
                FloatVector u = FloatVector.fromArray(F, qrep, c);
                a0 = a0.add(u.mul(FloatVector.fromArray(F, kp, k0 + c)));
                a1 = a1.add(u.mul(FloatVector.fromArray(F, kp, k1 + c)));
                a2 = a2.add(u.mul(FloatVector.fromArray(F, kp, k2 + c)));
                a3 = a3.add(u.mul(FloatVector.fromArray(F, kp, k3 + c)));
                a4 = a4.add(u.mul(FloatVector.fromArray(F, kp, k4 + c)));
                a5 = a5.add(u.mul(FloatVector.fromArray(F, kp, k5 + c)));
                a6 = a6.add(u.mul(FloatVector.fromArray(F, kp, k6 + c)));
                a7 = a7.add(u.mul(FloatVector.fromArray(F, kp, k7 + c)));
            }
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, L);
            a2.intoArray(lanes, 2 * L);
            a3.intoArray(lanes, 3 * L);
            a4.intoArray(lanes, 4 * L);
            a5.intoArray(lanes, 5 * L);
            a6.intoArray(lanes, 6 * L);
            a7.intoArray(lanes, 7 * L);
            max = finishGroups(lanes, 8 * per, g * per, q, qo, keys, kvOff, kvStride, body, headDim, scale, scores, so, max);
        }
        for (; g < groups; g++) {
            int k0 = g * step;
            FloatVector a0 = FloatVector.zero(F);
            for (int c = 0; c < step; c += L) {
                a0 = a0.add(FloatVector.fromArray(F, qrep, c).mul(FloatVector.fromArray(F, kp, k0 + c)));
            }
            a0.intoArray(lanes, 0);
            max = finishGroups(lanes, per, g * per, q, qo, keys, kvOff, kvStride, body, headDim, scale, scores, so, max);
        }
        for (int t = groups * per; t < visible; t++) {
            float v = dot(q, qo, keys, kvOff + t * kvStride, headDim) * scale;
            scores[so + t] = v;
            max = Math.max(max, v);
        }
        return max;
    }

    /** q's runs of four channels, each repeated L/4 times: {@code qrep[c * L + 4j + m] = q[qo + 4c + m]}. */
    private static void repeatRuns(float[] q, int qo, int runs, float[] qrep) {
        int per = L / 4;
        for (int c = 0; c < runs; c++) {
            for (int j = 0; j < per; j++) {
                qrep[c * L + 4 * j] = q[qo + 4 * c];
                qrep[c * L + 4 * j + 1] = q[qo + 4 * c + 1];
                qrep[c * L + 4 * j + 2] = q[qo + 4 * c + 2];
                qrep[c * L + 4 * j + 3] = q[qo + 4 * c + 3];
            }
        }
    }

    /** Scores of keys t0 .. t0+count-1 from their partial sums in {@code lanes}; returns the running max. */
    private static float finishGroups(float[] lanes, int count, int t0, float[] q, int qo, float[] keys, int kvOff,
                                      int kvStride, int body, int headDim, float scale, float[] scores, int so, float max) {
        for (int j = 0; j < count; j++) {
            float v = finishDot(lanes, 4 * j, q, qo, keys, kvOff + (t0 + j) * kvStride, body, headDim) * scale;
            scores[so + t0 + j] = v;
            max = Math.max(max, v);
        }
        return max;
    }

    /** The reference's scalar dot product (four partial sums), for the keys past the last full register. */
    private static float dot(float[] a, int ao, float[] b, int bo, int len) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int i = 0;
        for (; i + 3 < len; i += 4) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + 1] * b[bo + i + 1];
            s2 += a[ao + i + 2] * b[bo + i + 2];
            s3 += a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < len; i++) {
            s0 += a[ao + i] * b[bo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** The reference dot's end: leftover channels into the first sum, then {@code (s0 + s1) + (s2 + s3)}. */
    private static float finishDot(float[] lanes, int at, float[] q, int qo, float[] k, int ko, int body, int headDim) {
        float s0 = lanes[at];
        for (int d = body; d < headDim; d++) {
            s0 += q[qo + d] * k[ko + d];
        }
        return (s0 + lanes[at + 1]) + (lanes[at + 2] + lanes[at + 3]);
    }

    /**
     * For each head g, {@code out[qi + g * headDim + d] = sum over t, in order, of p[g * pStride + t] * v_t[d]}.
     * Each channel is its own chain, as in the reference; two heads times four registers of
     * channels give eight chains in flight, and the two heads share each value load.
     */
    private static void weightedValues(float[] values, int kvOff, int kvStride, int visible, int headDim,
                                       float[] p, int pStride, int heads, float[] out, int qi) {
        int g = 0;
        for (; g + 2 <= heads; g += 2) {
            int d = 0;
            for (; d + 4 * L <= headDim; d += 4 * L) {
                twoHeadsFourRegisters(values, kvOff + d, kvStride, visible, p, g * pStride, (g + 1) * pStride,
                        out, qi + g * headDim + d, qi + (g + 1) * headDim + d);
            }
            valueTail(values, kvOff, kvStride, visible, headDim, d, p, g * pStride, out, qi + g * headDim);
            valueTail(values, kvOff, kvStride, visible, headDim, d, p, (g + 1) * pStride, out, qi + (g + 1) * headDim);
        }
        for (; g < heads; g++) {
            int d = 0;
            for (; d + 4 * L <= headDim; d += 4 * L) {
                oneHeadFourRegisters(values, kvOff + d, kvStride, visible, p, g * pStride, out, qi + g * headDim + d);
            }
            valueTail(values, kvOff, kvStride, visible, headDim, d, p, g * pStride, out, qi + g * headDim);
        }
    }

    private static void twoHeadsFourRegisters(float[] values, int vo, int kvStride, int visible, float[] p, int p0, int p1,
                                              float[] out, int o0, int o1) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int t = 0; t < visible; t++, vo += kvStride) {
            FloatVector v0 = FloatVector.fromArray(F, values, vo);
            FloatVector v1 = FloatVector.fromArray(F, values, vo + L);
            FloatVector v2 = FloatVector.fromArray(F, values, vo + 2 * L);
            FloatVector v3 = FloatVector.fromArray(F, values, vo + 3 * L);
            float x = p[p0 + t];
            float y = p[p1 + t];
            a0 = a0.add(v0.mul(x));
            a1 = a1.add(v1.mul(x));
            a2 = a2.add(v2.mul(x));
            a3 = a3.add(v3.mul(x));
            b0 = b0.add(v0.mul(y));
            b1 = b1.add(v1.mul(y));
            b2 = b2.add(v2.mul(y));
            b3 = b3.add(v3.mul(y));
        }
        a0.intoArray(out, o0);
        a1.intoArray(out, o0 + L);
        a2.intoArray(out, o0 + 2 * L);
        a3.intoArray(out, o0 + 3 * L);
        b0.intoArray(out, o1);
        b1.intoArray(out, o1 + L);
        b2.intoArray(out, o1 + 2 * L);
        b3.intoArray(out, o1 + 3 * L);
    }

    private static void oneHeadFourRegisters(float[] values, int vo, int kvStride, int visible, float[] p, int p0,
                                             float[] out, int o0) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < visible; t++, vo += kvStride) {
            float x = p[p0 + t];
            a0 = a0.add(FloatVector.fromArray(F, values, vo).mul(x));
            a1 = a1.add(FloatVector.fromArray(F, values, vo + L).mul(x));
            a2 = a2.add(FloatVector.fromArray(F, values, vo + 2 * L).mul(x));
            a3 = a3.add(FloatVector.fromArray(F, values, vo + 3 * L).mul(x));
        }
        a0.intoArray(out, o0);
        a1.intoArray(out, o0 + L);
        a2.intoArray(out, o0 + 2 * L);
        a3.intoArray(out, o0 + 3 * L);
    }

    /** Channels [from, headDim) of one head: a register at a time, then the channels past the last whole one. */
    private static void valueTail(float[] values, int kvOff, int kvStride, int visible, int headDim, int from,
                                  float[] p, int po, float[] out, int oo) {
        int d = from;
        for (; d + L <= headDim; d += L) {
            FloatVector acc = FloatVector.zero(F);
            int vo = kvOff + d;
            for (int t = 0; t < visible; t++, vo += kvStride) {
                acc = acc.add(FloatVector.fromArray(F, values, vo).mul(p[po + t]));
            }
            acc.intoArray(out, oo + d);
        }
        for (; d < headDim; d++) {
            float acc = 0f;
            for (int t = 0; t < visible; t++) {
                acc += p[po + t] * values[kvOff + t * kvStride + d];
            }
            out[oo + d] = acc;
        }
    }

    /** Per-thread buffers. */
    private static final class Scratch {
        final float[] lanes = new float[8 * L];
        private float[] scores = new float[0];
        private float[] qrep = new float[0];
        private float[] keyGroups = new float[0];

        float[] keyGroups(int n) {
            if (keyGroups.length < n) {
                keyGroups = new float[n];
            }
            return keyGroups;
        }

        float[] scores(int n) {
            if (scores.length < n) {
                scores = new float[n];
            }
            return scores;
        }

        float[] qrep(int n) {
            if (qrep.length < n) {
                qrep = new float[n];
            }
            return qrep;
        }
    }
}
