package kittyspark.runtime.backend.cuda.kitty;

import java.util.Arrays;

import kittyspark.kvquant.QuantConfig;

/**
 * The per-sequence metadata of one decode step, as the attention kernels read it: for each
 * sequence {@link #INTS_PER_SEQUENCE} int32 (struct {@code kitty::SeqMeta})
 *
 * <pre>
 * 0 length              tokens, the current one included
 * 1 keyPages            packed key pages it reads
 * 2 valuePages          packed value pages it reads (fewer: values wait W tokens longer)
 * 3 keyTableOffset      its key page ids start at keyTable[keyTableOffset]
 * 4 valueTableOffset    its value page ids start at valueTable[valueTableOffset]
 * 5 fpSlot              its slot in the full-precision tail ({@link KittyFpTail})
 * 6, 7                  reserved (0)
 * </pre>
 *
 * plus the two page tables (key and value page counts differ, so they are separate arrays).
 */
public final class KittySequenceTable {
    public static final int INTS_PER_SEQUENCE = 8;

    private final QuantConfig config;
    private final KittyFpTail tail;
    private int[] meta = new int[8 * INTS_PER_SEQUENCE];
    private int[] keyTable = new int[64];
    private int[] valueTable = new int[64];
    private int sequences;
    private int keyIds;
    private int valueIds;

    public KittySequenceTable(KittyFpTail tail) {
        this.tail = tail;
        this.config = tail.config();
    }

    /**
     * Pages a decode step at {@code length} reads: those made by the flush after the previous
     * step (QuantizedKvStream makes pages after attention), so {@code {keyPages, valuePages}}
     * of a stream holding {@code length - 1} tokens.
     */
    public static int[] pagesRead(QuantConfig c, int length) {
        // The pages made by the flush after the previous step (the stream was one token shorter).
        return new int[] {c.keyPages(length - 1), c.valuePages(length - 1)};
    }

    /** Adds a sequence; the page ids are pool indices in token order. */
    public KittySequenceTable add(int length, int[] keyPages, int[] valuePages, int fpSlot) {
        int s = Math.min(config.sink(), length);
        int fpKeys = length - s - keyPages.length * config.pageSize();
        int fpValues = length - s - valuePages.length * config.pageSize();
        if (length < 1 || fpKeys < 0 || fpValues < 0 || fpKeys > config.pageSize() || fpValues > tail.valueRing()
                || valuePages.length > keyPages.length) {
            throw new IllegalArgumentException("sequence of " + length + " tokens cannot have " + keyPages.length
                    + " key and " + valuePages.length + " value pages: its full-precision rows must fit the rings ("
                    + config.pageSize() + " keys, " + tail.valueRing() + " values)");
        }
        if (INTS_PER_SEQUENCE * (sequences + 1) > meta.length) {
            meta = Arrays.copyOf(meta, meta.length * 2);
        }
        int at = INTS_PER_SEQUENCE * sequences;
        meta[at] = length;
        meta[at + 1] = keyPages.length;
        meta[at + 2] = valuePages.length;
        meta[at + 3] = keyIds;
        meta[at + 4] = valueIds;
        meta[at + 5] = fpSlot;
        keyTable = append(keyTable, keyIds, keyPages);
        valueTable = append(valueTable, valueIds, valuePages);
        keyIds += keyPages.length;
        valueIds += valuePages.length;
        sequences++;
        return this;
    }

    private static int[] append(int[] table, int used, int[] ids) {
        int[] t = used + ids.length > table.length ? Arrays.copyOf(table, Math.max(table.length * 2, used + ids.length)) : table;
        System.arraycopy(ids, 0, t, used, ids.length);
        return t;
    }

    public int sequences() {
        return sequences;
    }

    public int[] metadata() {
        return Arrays.copyOf(meta, INTS_PER_SEQUENCE * sequences);
    }

    /** Key page ids; never empty (a one-entry dummy keeps the device array allocatable). */
    public int[] keyTable() {
        return Arrays.copyOf(keyTable, Math.max(1, keyIds));
    }

    public int[] valueTable() {
        return Arrays.copyOf(valueTable, Math.max(1, valueIds));
    }

    /** Packed key and value pages the step's attention reads, over all sequences (one layer, one kv head each). */
    public long keyPagesRead() {
        return keyIds;
    }

    public long valuePagesRead() {
        return valueIds;
    }

    /** Full-precision rows the step's attention reads, keys and values together (one layer, one kv head each). */
    public long fp16RowsRead() {
        long rows = 0;
        for (int i = 0; i < sequences; i++) {
            int at = INTS_PER_SEQUENCE * i;
            rows += 2L * meta[at] - (long) (meta[at + 1] + meta[at + 2]) * config.pageSize();
        }
        return rows;
    }

    public int[] lengths() {
        int[] l = new int[sequences];
        for (int i = 0; i < sequences; i++) {
            l[i] = meta[INTS_PER_SEQUENCE * i];
        }
        return l;
    }
}
