package kittyspark.runtime.backend.cuda.kitty;

import kittyspark.kvquant.QuantConfig;

/**
 * Where a sequence's full-precision keys and values live on the device (fp16, per layer, one
 * slot per sequence), as the Kitty kernels read them:
 *
 * <pre>
 * keys    [slots][S + P][kvHeads][D]   rows 0..S-1 the sink, then the key buffer as a ring of P rows
 * values  [slots][S + R][kvHeads][D]   rows 0..S-1 the sink, then a ring of R rows (R >= W + P, a multiple of P)
 * </pre>
 *
 * Token t >= S sits at row S + (t - S) mod P (keys) or S + (t - S) mod R (values). The ring
 * sizes cover the longest full-precision run the stream rules allow (a key buffer of up to P
 * keys, values of the buffer plus the window up to W + P), and because both are multiples of
 * P, the next page to make is always P consecutive rows: the key ring itself, or rows
 * S + (i P mod R) .. for value page i. Those rows feed {@link KittyPageJobs} directly.
 */
public record KittyFpTail(QuantConfig config, int kvHeads, int headDim) {
    public static final int BYTES_PER_ELEMENT = 2;

    public KittyFpTail {
        if (config.pageSize() != KittyKernels.PAGE_SIZE) {
            throw new IllegalArgumentException("the Kitty kernels use pages of " + KittyKernels.PAGE_SIZE + " tokens");
        }
    }

    /** R: value ring rows. */
    public int valueRing() {
        int p = config.pageSize();
        return (config.valueWindow() + p + p - 1) / p * p;
    }

    public int keyRows() {
        return config.sink() + config.pageSize();
    }

    public int valueRows() {
        return config.sink() + valueRing();
    }

    public int keyRow(int token) {
        int s = config.sink();
        return token < s ? token : s + (token - s) % config.pageSize();
    }

    public int valueRow(int token) {
        int s = config.sink();
        return token < s ? token : s + (token - s) % valueRing();
    }

    /** Element stride between consecutive tokens (the quantize kernels' tokenStride). */
    public int tokenStride() {
        return kvHeads * headDim;
    }

    public long keySlotBytes() {
        return (long) keyRows() * tokenStride() * BYTES_PER_ELEMENT;
    }

    public long valueSlotBytes() {
        return (long) valueRows() * tokenStride() * BYTES_PER_ELEMENT;
    }

    /** Byte offset of (slot, row, kv head 0) in the keys array. */
    public long keyOffset(int slot, int row) {
        return (slot * (long) keyRows() + row) * tokenStride() * BYTES_PER_ELEMENT;
    }

    public long valueOffset(int slot, int row) {
        return (slot * (long) valueRows() + row) * tokenStride() * BYTES_PER_ELEMENT;
    }

    /** First row of key page i's source: the key ring starts every page at row S. */
    public int keyPageFirstRow(int pageIndex) {
        return keyRow(config.sink() + pageIndex * config.pageSize());
    }

    /** First row of value page i's source. */
    public int valuePageFirstRow(int pageIndex) {
        return valueRow(config.sink() + pageIndex * config.pageSize());
    }
}
