package kittyspark.runtime.backend.cuda.kitty;

import java.util.List;

/**
 * Benchmarks and self-tests: one decode step's attention over Kitty pages on its own. The
 * split-KV kernel (and the combine) for every sequence of the step, over any layer's pages, with
 * seeded random queries; nothing is written back to the model's rows and no page is made, so
 * the same step can be launched again and again, with either kernel variant.
 */
public final class KittyAttentionProbe {
    private final KittyCache cache;
    private final KittyCache.Step step;
    private final int batch;

    private KittyAttentionProbe(KittyCache cache, KittyCache.Step step, int batch) {
        this.cache = cache;
        this.step = step;
        this.batch = batch;
    }

    /**
     * A decode step of {@code seqs}, each at its current {@code lengths[i]} tokens, planned and
     * uploaded (valid until the cache plans its next step).
     */
    public static KittyAttentionProbe of(KittyCache cache, List<KittyCache.Seq> seqs, int[] lengths, long seed) {
        int n = seqs.size();
        int[] ones = new int[n];
        int[] row0 = new int[n];
        for (int i = 0; i < n; i++) {
            ones[i] = 1;
            row0[i] = i;
        }
        KittyCache.Step step = cache.prepare(seqs, lengths, ones, row0);
        cache.fillDecodeQueries(seed);
        return new KittyAttentionProbe(cache, step, n);
    }

    /** Switches the kernel the next launches use. */
    public void select(KittyAttentionVariant v) {
        cache.selectAttention(v);
    }

    public KittyAttentionVariant variant() {
        return cache.attention();
    }

    /** The attention kernel over layer {@code layer}'s pages, and the combine if asked. */
    public void launch(int layer, boolean combine) {
        cache.attendOnly(step, layer, combine);
    }

    /** The combined output of one launch over layer {@code layer}: [sequence][padded query head][head dim]. */
    public float[] output(int layer) {
        launch(layer, true);
        return cache.decodeOutput(batch);
    }

    public int layers() {
        return cache.layers();
    }

    public int batch() {
        return batch;
    }

    /** Packed page bytes one launch reads (all sequences and kv heads of one layer). */
    public long packedBytes() {
        return step.decodePackedBytes;
    }

    /** fp16 row bytes one launch reads besides (sink, key buffer, value ring). */
    public long fp16Bytes() {
        return step.decodeFp16Bytes;
    }

    /** Splits per (sequence, kv head) and tiles per split of the launch plan. */
    public int[] splits() {
        KittyAttentionPlan a = step.attention;
        return a == null ? new int[] {0, 0} : new int[] {a.maxSplits(), a.tilesPerSplit()};
    }
}
