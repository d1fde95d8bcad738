package kittyspark.runtime.kv;

import java.util.concurrent.ForkJoinTask;
import java.util.stream.IntStream;

import kittyspark.runtime.checkpoint.KvGeometry;

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
        causal(g, q, n, keys, values, length, out, AttentionKernel.REFERENCE);
    }

    /** {@link #causal} with the given kernel for each head's rows. */
    public static void causal(KvGeometry g, float[] q, int n, float[] keys, float[] values, int length, float[] out,
                              AttentionKernel kernel) {
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
            rows(kernel, g, q, n, keys, values, length, out, h, from, Math.min(n, from + ROW_BLOCK));
        });
    }

    private static void rows(AttentionKernel kernel, KvGeometry g, float[] q, int n, float[] keys, float[] values, int length, float[] out,
                             int h, int rowFrom, int rowTo) {
        int hd = g.headDim();
        kernel.causalRows(keys, (h / g.groupSize()) * hd, g.kvWidth(), values, length, hd,
                q, h * hd, g.qWidth(), 1, n, rowFrom, rowTo, out);
    }
}
