package kittyspark.runtime.kv;

import java.util.concurrent.ForkJoinTask;
import java.util.stream.IntStream;

/** Causal softmax attention over full-precision keys and values, fp32, GQA-aware. */
public final class DenseAttention {
    /** Query rows per parallel unit of work in long prefills. */
    private static final int ROW_BLOCK = 64;

    private DenseAttention() {
    }

    /**
     * @param q      {@code [n][numHeads*headDim]}: the last n of {@code length} positions
     * @param keys   {@code [length][numKvHeads*headDim]}
     * @param values {@code [length][numKvHeads*headDim]}
     * @param out    {@code [n][numHeads*headDim]}
     */
    public static void causal(KvGeometry g, float[] q, int n, float[] keys, float[] values, int length, float[] out) {
        int blocks = (n + ROW_BLOCK - 1) / ROW_BLOCK;
        int units = blocks * g.numHeads();
        // Long prefills split over heads and row blocks; they only go parallel inside a
        // backend's own pool (a parallel stream runs in the pool of the thread that starts it).
        IntStream work = IntStream.range(0, units);
        if (units > 1 && (long) n * length > 65536 && ForkJoinTask.inForkJoinPool()) {
            work = work.parallel();
        }
        work.forEach(u -> {
            int h = u % g.numHeads();
            int from = (u / g.numHeads()) * ROW_BLOCK;
            rows(g, q, n, keys, values, length, out, h, from, Math.min(n, from + ROW_BLOCK));
        });
    }

    private static void rows(KvGeometry g, float[] q, int n, float[] keys, float[] values, int length, float[] out,
                             int h, int rowFrom, int rowTo) {
        int hd = g.headDim();
        int kvw = g.kvWidth();
        int qw = g.qWidth();
        float scale = (float) (1.0 / Math.sqrt(hd));
        int ko = (h / g.groupSize()) * hd;
        float[] scores = new float[length];
        for (int i = rowFrom; i < rowTo; i++) {
            int visible = length - n + i + 1;
            int qo = i * qw + h * hd;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < visible; t++) {
                float s = dot(q, qo, keys, t * kvw + ko, hd) * scale;
                scores[t] = s;
                if (s > max) {
                    max = s;
                }
            }
            float sum = 0f;
            for (int t = 0; t < visible; t++) {
                float e = (float) Math.exp(scores[t] - max);
                scores[t] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int d = 0; d < hd; d++) {
                out[qo + d] = 0f;
            }
            for (int t = 0; t < visible; t++) {
                float p = scores[t] * inv;
                int vb = t * kvw + ko;
                for (int d = 0; d < hd; d++) {
                    out[qo + d] += p * values[vb + d];
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
