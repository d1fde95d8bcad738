package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.cuda.kitty.KittyCache;
import kittyspark.runtime.backend.cuda.pages.PagePool;

/** A sequence on the GPU: fp16 pages or Kitty pages, and its length; the pages hold its K and V in every layer. */
final class CudaSequence implements SequenceState {
    final CudaBackend owner;
    /** fp16 pages, or null for a quantized sequence. */
    final PagePool.Table table;
    /** Quantized pages and fp16 tail slot, or null for an fp16 sequence. */
    final KittyCache.Seq kitty;
    private final long fp16BytesPerToken;
    int length;
    boolean released;

    CudaSequence(CudaBackend owner, PagePool.Table table, KittyCache.Seq kitty, long fp16BytesPerToken) {
        this.owner = owner;
        this.table = table;
        this.kitty = kitty;
        this.fp16BytesPerToken = fp16BytesPerToken;
    }

    /** The Kitty cache holding this sequence, or null for fp16 pages. */
    KittyCache cache() {
        return kitty == null ? null : kitty.cache();
    }

    public int[] pages() {
        return table == null ? new int[0] : table.pages();
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public long kvBytes() {
        if (released) {
            return 0;
        }
        return kitty != null ? kitty.bytes(length) : length * fp16BytesPerToken;
    }

    @Override
    public void release() {
        if (!released) {
            released = true;
            if (kitty != null) {
                kitty.release();
            } else {
                table.release();
            }
        }
    }
}
