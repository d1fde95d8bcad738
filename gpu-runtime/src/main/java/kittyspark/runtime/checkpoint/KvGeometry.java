package kittyspark.runtime.checkpoint;

/**
 * The shape of a model's KV cache: what a cache needs to know to store keys and values and
 * to compute attention over them. Query heads are grouped over KV heads (GQA): query head h
 * reads KV head {@code h / (numHeads / numKvHeads)}.
 */
public record KvGeometry(int numLayers, int numHeads, int numKvHeads, int headDim) {
    public KvGeometry {
        if (numLayers <= 0 || numHeads <= 0 || numKvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV geometry must be positive: " + numLayers + " layers, "
                    + numHeads + " heads, " + numKvHeads + " kv heads, head_dim " + headDim);
        }
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
    }

    /** Width of one token's keys (or values) in one layer: all KV heads side by side. */
    public int kvWidth() {
        return numKvHeads * headDim;
    }

    /** Width of one token's queries in one layer. */
    public int qWidth() {
        return numHeads * headDim;
    }

    public int groupSize() {
        return numHeads / numKvHeads;
    }
}
