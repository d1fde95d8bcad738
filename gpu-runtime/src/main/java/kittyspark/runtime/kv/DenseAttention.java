package kittyspark.runtime.kv;

import kittyspark.runtime.checkpoint.KvGeometry;

/** Causal softmax attention over full-precision keys and values, fp32, GQA-aware. */
public final class DenseAttention {
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

    /**
     * {@link #causal} with the given kernel, one call per KV head with the query heads that share
     * it (a backend's kernel may split a long call's rows over its threads).
     */
    public static void causal(KvGeometry g, float[] q, int n, float[] keys, float[] values, int length, float[] out,
                              AttentionKernel kernel) {
        int hd = g.headDim();
        int group = g.groupSize();
        for (int kvh = 0; kvh < g.numKvHeads(); kvh++) {
            kernel.causalRows(keys, kvh * hd, g.kvWidth(), values, length, hd,
                    q, kvh * group * hd, g.qWidth(), group, n, 0, n, out);
        }
    }
}
