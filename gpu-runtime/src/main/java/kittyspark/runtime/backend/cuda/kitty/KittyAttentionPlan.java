package kittyspark.runtime.backend.cuda.kitty;

/**
 * How one decode step's Kitty attention is cut into blocks (flash-decoding). A sequence of
 * {@code length} tokens is read as tiles of {@link KittyKernels#PAGE_SIZE} tokens: first the
 * sink tiles, then one tile per key page / key buffer ({@link #tiles}). A block takes
 * {@code tilesPerSplit} consecutive tiles of one (sequence, kv head); the grid is
 * (maxSplits, kvHeads, batch) and blocks past a sequence's last tile exit at once. The
 * combine kernel merges the splits of each (sequence, query head).
 *
 * <p>Splits are the fewest that give the launch {@code fill} blocks per resident block slot
 * (the kernel's, {@link KittyAttentionVariant#fill()}): a few long sequences still fill the
 * GPU, and a full batch does not pay for splits it does not need. Tiles per split are the
 * longest sequence's tiles divided by the split count, rounded up, rather than a fixed chunk,
 * so its splits are near equal.
 */
public record KittyAttentionPlan(int batch, int kvHeads, int queryHeads, int headDim, int sink, int tilesPerSplit,
                                 int maxSplits) {

    /** Tiles the kernel walks for a sequence of {@code length} tokens (the current one included). */
    public static int tiles(int length, int sink) {
        int p = KittyKernels.PAGE_SIZE;
        int sinkTokens = Math.min(sink, length);
        int body = length > sink ? (length - sink + p - 1) / p : 0;
        return (sinkTokens + p - 1) / p + body;
    }

    /**
     * @param lengths              tokens of each sequence this step, the new one included
     * @param smCount              multiprocessors of the device
     * @param residentBlocksPerSm  attention blocks one multiprocessor holds at once (see the
     *                             kernel's launch bounds and shared memory)
     * @param fill                 blocks with work per resident block slot to aim for
     */
    public static KittyAttentionPlan plan(int[] lengths, int sink, int kvHeads, int queryHeads, int headDim,
                                          int smCount, int residentBlocksPerSm, double fill) {
        if (lengths.length == 0 || kvHeads <= 0 || queryHeads % kvHeads != 0 || smCount <= 0
                || residentBlocksPerSm <= 0 || !(fill > 0)) {
            throw new IllegalArgumentException("need sequences, kv heads dividing query heads, a device and a fill > 0");
        }
        int maxTiles = 1;
        for (int length : lengths) {
            maxTiles = Math.max(maxTiles, tiles(length, sink));
        }
        long pairs = (long) lengths.length * kvHeads;
        long target = targetBlocks(smCount, residentBlocksPerSm, fill);
        int splits = (int) Math.max(1, Math.min(maxTiles, (target + pairs - 1) / pairs));
        int tilesPerSplit = (maxTiles + splits - 1) / splits;
        int maxSplits = (maxTiles + tilesPerSplit - 1) / tilesPerSplit;
        return new KittyAttentionPlan(lengths.length, kvHeads, queryHeads, headDim, sink, tilesPerSplit, maxSplits);
    }

    /** Blocks with work a launch aims for: {@code fill} per resident block slot, at least one. */
    public static long targetBlocks(int smCount, int residentBlocksPerSm, double fill) {
        return Math.max(1, (long) Math.ceil(fill * smCount * residentBlocksPerSm));
    }

    /** Splits (blocks with work) of a sequence of this length. */
    public int splits(int length) {
        return (tiles(length, sink) + tilesPerSplit - 1) / tilesPerSplit;
    }

    /** Grid of the attention kernel: x = split, y = kv head, z = sequence. */
    public int[] attentionGrid() {
        return new int[] {maxSplits, kvHeads, batch};
    }

    /** Grid of the combine kernel: x = query head, y = sequence. */
    public int[] combineGrid() {
        return new int[] {queryHeads, batch};
    }

    /** fp32 elements of the partial accumulators [batch][queryHeads][maxSplits][headDim]. */
    public long partialAccFloats() {
        return (long) batch * queryHeads * maxSplits * headDim;
    }

    /** fp32 elements of the partial (max, sum) pairs [batch][queryHeads][maxSplits][2]. */
    public long partialMaxSumFloats() {
        return (long) batch * queryHeads * maxSplits * 2;
    }

    /** The kernel's {@code scale_log2} argument: softmax scale 1/sqrt(D) in base-2 exponent units. */
    public float scaleLog2() {
        return (float) (1.0 / Math.sqrt(headDim) / Math.log(2.0));
    }
}
