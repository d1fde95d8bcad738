package kittyspark.runtime.backend.cpu;

import kittyspark.runtime.checkpoint.WeightTensor;

/**
 * The portable matrix product, and the definition of every output's arithmetic: four weight
 * rows decoded to fp32 at a time and reused for every input row. An output of a full block of
 * four rows sums its even-indexed products in one chain and its odd-indexed ones in another,
 * in index order, and adds the two; the rows of a last partial block use four chains. Products
 * are rounded before they are added (Java never fuses them), so the SIMD kernels can run the
 * same chains in lanes and give the same bits.
 */
public final class ScalarMatMul implements MatMul {
    private final WeightTensor weight;

    public ScalarMatMul(WeightTensor weight) {
        this.weight = weight;
    }

    @Override
    public float[] prepare(float[] x, int n) {
        return x;
    }

    @Override
    public int blockRows() {
        return 4;
    }

    @Override
    public int grain(int n) {
        return Math.max(1, 4096 / Math.max(1, n));
    }

    @Override
    public void rows(float[] x, int n, float[] y, int from, int to) {
        int in = weight.cols();
        int out = weight.rows();
        float[] w = new float[4 * in];
        for (int o = from; o < to; o += 4) {
            int rows = Math.min(4, to - o);
            for (int j = 0; j < rows; j++) {
                weight.readRow(o + j, w, j * in);
            }
            if (rows == 4) {
                for (int r = 0; r < n; r++) {
                    dot4(x, r * in, w, in, y, r * out + o);
                }
            } else {
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < rows; j++) {
                        y[r * out + o + j] = dot(x, r * in, w, j * in, in);
                    }
                }
            }
        }
    }

    /** Four outputs from one pass over x; two sums per output keep eight adds in flight. */
    static void dot4(float[] x, int xo, float[] w, int len, float[] y, int yo) {
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
        int w1 = len, w2 = 2 * len, w3 = 3 * len;
        int i = 0;
        for (; i + 1 < len; i += 2) {
            float x0 = x[xo + i];
            float x1 = x[xo + i + 1];
            a0 += x0 * w[i];
            a1 += x0 * w[w1 + i];
            a2 += x0 * w[w2 + i];
            a3 += x0 * w[w3 + i];
            b0 += x1 * w[i + 1];
            b1 += x1 * w[w1 + i + 1];
            b2 += x1 * w[w2 + i + 1];
            b3 += x1 * w[w3 + i + 1];
        }
        if (i < len) {
            float x0 = x[xo + i];
            a0 += x0 * w[i];
            a1 += x0 * w[w1 + i];
            a2 += x0 * w[w2 + i];
            a3 += x0 * w[w3 + i];
        }
        y[yo] = a0 + b0;
        y[yo + 1] = a1 + b1;
        y[yo + 2] = a2 + b2;
        y[yo + 3] = a3 + b3;
    }

    /** One output; four independent sums so the CPU can overlap the adds (the JIT keeps fp order). */
    static float dot(float[] x, int xo, float[] w, int wo, int len) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int i = 0;
        for (; i + 3 < len; i += 4) {
            s0 += x[xo + i] * w[wo + i];
            s1 += x[xo + i + 1] * w[wo + i + 1];
            s2 += x[xo + i + 2] * w[wo + i + 2];
            s3 += x[xo + i + 3] * w[wo + i + 3];
        }
        for (; i < len; i++) {
            s0 += x[xo + i] * w[wo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
