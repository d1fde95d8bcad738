package kittyspark.runtime.kv;

import kittyspark.runtime.checkpoint.KvGeometry;

/**
 * The keys and values of one sequence, for every layer, and attention over them.
 *
 * <p>Attention lives with the storage because only the cache knows how its tokens are held
 * (full precision, or quantized pages plus full-precision regions). Per layer and step the
 * transformer calls {@link #append} with the step's new keys and values (after RoPE and q/k
 * norm), then {@link #attend} with the step's queries. A quantized cache turns full buffers
 * into pages only after that step's attention, so a prompt prefilled in one step attends in
 * full precision, and decode steps read the quantized pages.
 *
 * <p>Not thread-safe: one sequence is advanced by one thread at a time, but different
 * sequences (and different layers of one step, in order) may run on different threads.
 */
public interface KvCache {

    KvGeometry geometry();

    /** Tokens stored so far in {@code layer}. */
    int length(int layer);

    /**
     * Appends {@code n} tokens to {@code layer}.
     *
     * @param k row-major {@code [n][numKvHeads * headDim]}
     * @param v row-major {@code [n][numKvHeads * headDim]}
     */
    void append(int layer, float[] k, float[] v, int n);

    /**
     * Causal attention for the last {@code n} appended tokens of {@code layer}: query row i
     * sits at position {@code length(layer) - n + i} and sees positions 0..that position.
     * Softmax scale is {@code 1/sqrt(headDim)}.
     *
     * @param q   row-major {@code [n][numHeads * headDim]}
     * @param out row-major {@code [n][numHeads * headDim]}, overwritten
     */
    void attend(int layer, float[] q, int n, float[] out);

    /** Bytes this cache holds now, as it would be stored on a device (fp16 for full precision). */
    long storedBytes();

    /** Frees what the cache holds; it must not be used afterwards. */
    default void release() {
    }
}
