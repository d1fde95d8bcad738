package kittyspark.runtime.backend.cuda.kitty;

import java.util.Arrays;

import kittyspark.kvquant.QuantConfig;

/**
 * How one forward step of Kitty sequences is laid out on the device (kitty_step.cu). Each
 * piece (a sequence's tokens in this step, {@code n} of them after {@code l0} already held) is
 * either
 * <ul>
 * <li>a <b>decode</b> piece ({@code n == 1}, {@code l0 > 0}): its new K/V row goes straight into
 *     the sequence's rings, the split-KV kernel attends over pages + fp16 tail, and the flush
 *     makes at most one key and one value page from the rings; or</li>
 * <li>a <b>chunk</b> piece (a prompt or a prompt chunk): it attends in full precision with the
 *     fp16 prefill kernels over scratch pages that hold its history (tokens {@code 0..l0-1} as
 *     {@code QuantizedKvStream}'s view has them: pages dequantized, the rest as held) and its
 *     new tokens; its tokens from {@link KittyFlush#stagingBase} on sit in consecutive staging
 *     rows, from which the flush's pages are quantized and the rings refilled.</li>
 * </ul>
 * Per piece, {@link #INFO_INTS} ints (the kernels' layout; slot and page-table offsets 8..10
 * are filled in by the caller that owns the page tables):
 * <pre>
 * 0 l0  1 n  2 kp0  3 vp0  4 kp1  5 vp1  6 staging base token  7 first staging row
 * 8 slot  9 key table offset  10 value table offset  11 chunk?1:0
 * 12 scratch page-table index of token 0  13 decode index or -1  14, 15 reserved
 * </pre>
 */
public final class KittyStepPlan {
    public static final int INFO_INTS = 16;
    /** Tokens per fp16 scratch page (the fp16 attention kernels' page). */
    public static final int SCRATCH_PAGE = 16;

    private final int[] info;
    private final int[] seqPt;
    private final int[] pageTable;
    private final int[] histPiece;
    private final int[] histTok;
    private final int[] stagePiece;
    private final int[] stageTok;
    private final int keyJobs;
    private final int valueJobs;
    private final int decodeCount;

    private KittyStepPlan(int[] info, int[] seqPt, int[] pageTable, int[] histPiece, int[] histTok, int[] stagePiece,
                          int[] stageTok, int keyJobs, int valueJobs, int decodeCount) {
        this.info = info;
        this.seqPt = seqPt;
        this.pageTable = pageTable;
        this.histPiece = histPiece;
        this.histTok = histTok;
        this.stagePiece = stagePiece;
        this.stageTok = stageTok;
        this.keyJobs = keyJobs;
        this.valueJobs = valueJobs;
        this.decodeCount = decodeCount;
    }

    public static boolean isChunk(int l0, int n) {
        return n > 1 || l0 == 0;
    }

    /** Scratch pages a piece takes: its whole context for a chunk, one page for a decode row. */
    public static int scratchNeed(int l0, int n) {
        return isChunk(l0, n) ? (l0 + n + SCRATCH_PAGE - 1) / SCRATCH_PAGE : 1;
    }

    /** Staging rows a piece takes (none for a decode row). */
    public static int stageNeed(QuantConfig c, int l0, int n) {
        return isChunk(l0, n) ? l0 + n - KittyFlush.stagingBase(c, l0) : 0;
    }

    /**
     * @param l0 tokens each sequence holds before the step
     * @param n  tokens each feeds in this step
     */
    public static KittyStepPlan of(QuantConfig c, int[] l0, int[] n, int[] row0, int scratchPages, int stageRows) {
        int pieces = l0.length;
        int[] info = new int[INFO_INTS * pieces];
        int[] seqPt = new int[pieces];
        int scratch = 0;
        int hist = 0;
        int stage = 0;
        for (int j = 0; j < pieces; j++) {
            scratch += scratchNeed(l0[j], n[j]);
            if (isChunk(l0[j], n[j])) {
                hist += l0[j];
            }
            stage += stageNeed(c, l0[j], n[j]);
        }
        if (scratch > scratchPages || stage > stageRows) {
            throw new IllegalArgumentException("kitty step needs " + scratch + " scratch pages and " + stage
                    + " staging rows; the backend has " + scratchPages + " and " + stageRows);
        }
        int[] pageTable = new int[Math.max(1, scratch)];
        int[] histPiece = new int[hist];
        int[] histTok = new int[hist];
        int[] stagePiece = new int[stage];
        int[] stageTok = new int[stage];
        int pt = 0;
        int h = 0;
        int st = 0;
        int keyJobs = 0;
        int valueJobs = 0;
        int decode = 0;
        for (int j = 0; j < pieces; j++) {
            int o = INFO_INTS * j;
            int len = l0[j] + n[j];
            boolean chunk = isChunk(l0[j], n[j]);
            info[o] = l0[j];
            info[o + 1] = n[j];
            info[o + 2] = KittyFlush.keyPages(c, l0[j]);
            info[o + 3] = KittyFlush.valuePages(c, l0[j]);
            info[o + 4] = KittyFlush.keyPages(c, len);
            info[o + 5] = KittyFlush.valuePages(c, len);
            info[o + 11] = chunk ? 1 : 0;
            info[o + 13] = chunk ? -1 : decode++;
            keyJobs += info[o + 4] - info[o + 2];
            valueJobs += info[o + 5] - info[o + 3];
            int pages = scratchNeed(l0[j], n[j]);
            // A decode row's one scratch page is entry pt: the kernels index the table by
            // (offset + position / 16), so its offset is shifted back by its position's page.
            seqPt[j] = chunk ? pt : pt - l0[j] / SCRATCH_PAGE;
            info[o + 12] = seqPt[j];
            for (int g = 0; g < pages; g++) {
                pageTable[pt] = pt;
                pt++;
            }
            if (chunk) {
                int base = KittyFlush.stagingBase(c, l0[j]);
                info[o + 6] = base;
                info[o + 7] = st;
                for (int t = 0; t < l0[j]; t++) {
                    histPiece[h] = j;
                    histTok[h++] = t;
                }
                for (int t = base; t < len; t++) {
                    stagePiece[st] = j;
                    stageTok[st++] = t;
                }
            }
        }
        return new KittyStepPlan(info, seqPt, pageTable, histPiece, histTok, stagePiece, stageTok, keyJobs, valueJobs, decode);
    }

    /** Piece info (a copy the caller may complete: slot and page-table offsets). */
    public int[] info() {
        return info;
    }

    public int[] seqPt() {
        return seqPt;
    }

    public int[] pageTable() {
        return pageTable;
    }

    public int[] histPiece() {
        return histPiece;
    }

    public int[] histTok() {
        return histTok;
    }

    public int histRows() {
        return histTok.length;
    }

    public int[] stagePiece() {
        return stagePiece;
    }

    public int[] stageTok() {
        return stageTok;
    }

    public int stageCount() {
        return stageTok.length;
    }

    public int keyJobCount() {
        return keyJobs;
    }

    public int valueJobCount() {
        return valueJobs;
    }

    public int decodeCount() {
        return decodeCount;
    }

    /** Field {@code field} of piece {@code j}'s info. */
    public int info(int j, int field) {
        return info[INFO_INTS * j + field];
    }

    @Override
    public String toString() {
        return "KittyStepPlan" + Arrays.toString(info);
    }
}
