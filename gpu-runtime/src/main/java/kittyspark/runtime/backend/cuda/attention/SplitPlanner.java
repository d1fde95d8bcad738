package kittyspark.runtime.backend.cuda.attention;

import java.util.Arrays;

/**
 * Plans one step's attention launch (attention.cu): each sequence's piece of the step becomes
 * work items of {seq, row0, nrows, pos0, k0, k1, pbase, 0}. A prefill piece is cut into tiles of
 * {@code tileRows} query rows, each over all its visible keys. A decode row (one new token)
 * over a long context is split into key ranges (flash-decoding) so that a few sequences still
 * fill the GPU; its partial results are merged by the combine kernel, which reads for every
 * row its first partial row and the number of splits.
 */
public final class SplitPlanner {
    /** Keys per shared-memory chunk of the kernel: split boundaries are multiples of it. */
    public static final int CHUNK = 32;
    /** By default no split covers fewer keys than this (the combine would cost more than it saves). */
    public static final int MIN_SPLIT_KEYS = 256;
    /** Most splits of one row (the combine kernel keeps their weights in shared memory). */
    public static final int MAX_SPLITS = 512;

    /** One sequence's rows in a step: rows row0.. of the step, at positions pos0.. */
    public record Piece(int seq, int row0, int nrows, int pos0) {
    }

    /** The launch: items (8 ints each), per step row its partials, and the partial rows used. */
    public record Plan(int[] items, int itemCount, int[] pfirst, int[] nsplit, int partialRows) {
        public int[] item(int i) {
            return Arrays.copyOfRange(items, 8 * i, 8 * i + 8);
        }

        /**
         * This plan's items followed by {@code next}'s, for one step whose rows the two plans
         * share out (a row belongs to the plan that gave it partials; next's partial rows
         * follow this plan's).
         */
        public Plan then(Plan next) {
            int[] all = Arrays.copyOf(items, 8 * (itemCount + next.itemCount));
            System.arraycopy(next.items, 0, all, 8 * itemCount, 8 * next.itemCount);
            int[] pf = pfirst.clone();
            int[] ns = nsplit.clone();
            for (int r = 0; r < ns.length; r++) {
                if (next.nsplit[r] > 0) {
                    pf[r] = next.pfirst[r];
                    ns[r] = next.nsplit[r];
                }
            }
            return new Plan(all, itemCount + next.itemCount, pf, ns, Math.max(partialRows, next.partialRows));
        }
    }

    private final int tileRows;
    private final int targetBlocks;
    private final int kvHeads;
    private final int maxPartialRows;
    private final int minSplitKeys;

    /**
     * @param tileRows       query rows per prefill item (the kernel's pairs per block / group size)
     * @param targetBlocks   blocks wanted in flight (a few per multiprocessor)
     * @param kvHeads        blocks per item (one per KV head)
     * @param maxPartialRows capacity of the partial-result workspace, in rows
     */
    public SplitPlanner(int tileRows, int targetBlocks, int kvHeads, int maxPartialRows) {
        this(tileRows, targetBlocks, kvHeads, maxPartialRows, MIN_SPLIT_KEYS);
    }

    /** @param minSplitKeys the fewest keys of one split, a multiple of {@link #CHUNK} */
    public SplitPlanner(int tileRows, int targetBlocks, int kvHeads, int maxPartialRows, int minSplitKeys) {
        if (minSplitKeys <= 0 || minSplitKeys % CHUNK != 0) {
            throw new IllegalArgumentException("minSplitKeys must be a positive multiple of " + CHUNK + ", not " + minSplitKeys);
        }
        this.minSplitKeys = minSplitKeys;
        this.tileRows = tileRows;
        this.targetBlocks = targetBlocks;
        this.kvHeads = kvHeads;
        this.maxPartialRows = maxPartialRows;
    }

    public Plan plan(Piece[] pieces, int totalRows) {
        return plan(pieces, totalRows, 0);
    }

    /**
     * The plan of {@code pieces} (some of a step's), their partial rows numbered from
     * {@code firstPartial} on: another launch of the same step has the ones before.
     */
    public Plan plan(Piece[] pieces, int totalRows, int firstPartial) {
        int decodeRows = 0;
        int prefillRows = 0;
        int prefillItems = 0;
        for (Piece p : pieces) {
            if (p.nrows() == 1) {
                decodeRows++;
            } else {
                prefillRows += p.nrows();
                prefillItems += (p.nrows() + tileRows - 1) / tileRows;
            }
        }
        // Splits per decode row: enough blocks to fill the GPU, within the workspace.
        int wanted = decodeRows == 0 ? 1
                : Math.max(1, (targetBlocks - prefillItems * kvHeads) / Math.max(1, decodeRows * kvHeads));
        int room = decodeRows == 0 ? 1 : Math.max(1, (maxPartialRows - firstPartial - prefillRows) / decodeRows);
        int splits = Math.min(MAX_SPLITS, Math.min(wanted, room));

        int[] pfirst = new int[totalRows];
        int[] nsplit = new int[totalRows];
        int[] items = new int[8 * (prefillItems + decodeRows * splits)];
        int n = 0;
        int pbase = firstPartial;
        for (Piece p : pieces) {
            int keys = p.pos0() + p.nrows();
            if (p.nrows() == 1) {
                int len = splitLength(keys, splits);
                int count = (keys + len - 1) / len;
                pfirst[p.row0()] = pbase;
                nsplit[p.row0()] = count;
                for (int s = 0; s < count; s++) {
                    n = put(items, n, p.seq(), p.row0(), 1, p.pos0(), s * len, Math.min(keys, (s + 1) * len), pbase++);
                }
            } else {
                for (int t = 0; t < p.nrows(); t += tileRows) {
                    int rows = Math.min(tileRows, p.nrows() - t);
                    n = put(items, n, p.seq(), p.row0() + t, rows, p.pos0() + t, 0, keys, pbase);
                    for (int r = 0; r < rows; r++) {
                        pfirst[p.row0() + t + r] = pbase + r;
                        nsplit[p.row0() + t + r] = 1;
                    }
                    pbase += rows;
                }
            }
        }
        if (pbase > maxPartialRows) {
            throw new IllegalStateException("attention plan needs " + pbase + " partial rows, workspace has " + maxPartialRows);
        }
        return new Plan(items, n, pfirst, nsplit, pbase);
    }

    /** Keys per split: at least minSplitKeys, a multiple of CHUNK, so that {@code splits} cover {@code keys}. */
    int splitLength(int keys, int splits) {
        int len = (keys + splits - 1) / splits;
        len = Math.max(minSplitKeys, len);
        return (len + CHUNK - 1) / CHUNK * CHUNK;
    }

    private static int put(int[] items, int n, int seq, int row0, int nrows, int pos0, int k0, int k1, int pbase) {
        int o = 8 * n;
        items[o] = seq;
        items[o + 1] = row0;
        items[o + 2] = nrows;
        items[o + 3] = pos0;
        items[o + 4] = k0;
        items[o + 5] = k1;
        items[o + 6] = pbase;
        items[o + 7] = 0;
        return n + 1;
    }
}
