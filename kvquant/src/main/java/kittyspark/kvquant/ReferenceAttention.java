package kittyspark.kvquant;

/**
 * Causal softmax attention of a group of query heads over one KV head, fp32: the reference
 * that decode kernels over quantized pages are checked against. Keys and values are given
 * as what attention reads ({@link QuantizedKvStream#keys()}: sink, dequantized pages and
 * full-precision buffers and window), softmax runs over all of it.
 */
public final class ReferenceAttention {
    private ReferenceAttention() {
    }

    /**
     * @param q     query rows; row i, head g at {@code q[qOff + i * qStride + g * headDim]}; row i
     *              sits at position {@code length - n + i}
     * @param out   written like q
     */
    public static void causal(float[] keys, float[] values, int length, int headDim,
                              float[] q, int qOff, int qStride, int heads, int n, float[] out) {
        causalRows(keys, 0, headDim, values, length, headDim, q, qOff, qStride, heads, n, 0, n, out);
    }

    /**
     * Query rows {@code rowFrom..rowTo-1} of {@link #causal}, over keys and values stored with a
     * row stride: token t's key at {@code keys[kvOff + t * kvStride]} (values likewise), so a
     * caller holding all KV heads interleaved attends without copying one head out.
     */
    public static void causalRows(float[] keys, int kvOff, int kvStride, float[] values, int length, int headDim,
                                  float[] q, int qOff, int qStride, int heads, int n, int rowFrom, int rowTo,
                                  float[] out) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] scores = new float[length];
        for (int i = rowFrom; i < rowTo; i++) {
            int visible = length - n + i + 1;
            for (int g = 0; g < heads; g++) {
                int qo = qOff + i * qStride + g * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < visible; t++) {
                    float s = dot(q, qo, keys, kvOff + t * kvStride, headDim) * scale;
                    scores[t] = s;
                    max = Math.max(max, s);
                }
                float sum = 0f;
                for (int t = 0; t < visible; t++) {
                    scores[t] = (float) Math.exp(scores[t] - max);
                    sum += scores[t];
                }
                float inv = 1f / sum;
                java.util.Arrays.fill(out, qo, qo + headDim, 0f);
                for (int t = 0; t < visible; t++) {
                    float p = scores[t] * inv;
                    int vo = kvOff + t * kvStride;
                    for (int d = 0; d < headDim; d++) {
                        out[qo + d] += p * values[vo + d];
                    }
                }
            }
        }
    }

    /** Four independent sums: a single running sum would serialize on the add latency. */
    static float dot(float[] a, int ao, float[] b, int bo, int len) {
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
}
