package kittyspark.runtime.backend.cuda.gemm;

/**
 * Which GEMM kernel of gemm.cu computes y[M,N] = x[M,K] W[N,K]^T, and its launch shape.
 * Decode shapes are memory-bound. Up to {@link #GEMV_MAX_M} rows the GEMV kernel streams each
 * weight byte once, one warp per 8 output columns over the whole of K (no partial sums, one
 * launch). Up to {@link #DECODE_MAX_M} rows the decode kernel streams each weight once per 64
 * rows of x, from blocks of 8 columns (M <= 16), 16 (M <= 32) or 32 (larger M, so x is re-read
 * from L2 fewer times), with deep loads in flight; where that gives too few blocks to keep
 * enough loads in flight (few output columns), K is split over up to {@link #MAX_SPLITS}
 * blocks (grid z) writing partial planes that gemm_splitk_reduce adds up in a fixed order.
 * Larger M goes to the 128x128 tiled kernel, which reuses each loaded tile across 128 rows.
 *
 * @param splits K splits (grid z); 1 = none
 * @param kLen   k per split, a multiple of the decode kernel's 256-wide round
 */
public record GemmPlan(String kernel, int gridX, int gridY, int block, int sharedBytes, int splits, int kLen) {
    /** The largest M the GEMV kernel takes (one 16-row tensor-core tile). */
    public static final int GEMV_MAX_M = 16;
    /** Threads of a GEMV block: one warp. */
    public static final int GEMV_THREADS = 32;
    /** The largest M the decode kernel takes (it re-reads W once per 64 rows). */
    public static final int DECODE_MAX_M = 256;
    public static final int TILE = 128;
    public static final int TILE_K = 32;
    public static final int STAGES = 3;
    /** The decode kernel's 8 warps split K. */
    public static final int DECODE_THREADS = 256;
    /** k covered by one round of the decode kernel's 8 warps. */
    public static final int DECODE_ROUND = 256;
    /** Blocks wanted in a decode GEMM before K is split. */
    public static final int TARGET_BLOCKS = 1536;
    public static final int MAX_SPLITS = 4;

    /** Without K splits (no partial workspace). */
    public static GemmPlan of(int m, int n, int k, boolean split) {
        return of(m, n, k, split, 0);
    }

    /** @param partialFloats capacity of the split-K partial workspace, in floats */
    public static GemmPlan of(int m, int n, int k, boolean split, long partialFloats) {
        return of(m, n, k, split, partialFloats, GEMV_MAX_M);
    }

    /**
     * @param partialFloats capacity of the split-K partial workspace, in floats
     * @param gemvMaxM      the largest M that goes to the GEMV kernel (0: none does, the decode
     *                      kernel takes every M up to {@link #DECODE_MAX_M})
     */
    public static GemmPlan of(int m, int n, int k, boolean split, long partialFloats, int gemvMaxM) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("GEMM needs positive M, N, K, got " + m + "x" + n + "x" + k);
        }
        if (k % TILE_K != 0) {
            throw new IllegalArgumentException("GEMM inner dimension " + k + " is not a multiple of " + TILE_K
                    + " (the CUDA kernels read 32-wide k chunks)");
        }
        if (gemvMaxM > GEMV_MAX_M) {
            throw new IllegalArgumentException("the GEMV kernel takes at most " + GEMV_MAX_M + " rows, not " + gemvMaxM);
        }
        if (m <= gemvMaxM) {
            String kernel = (split ? "gemm_gemv_split_m" : "gemm_gemv_m") + (m <= 8 ? 8 : 16);
            return new GemmPlan(kernel, ceil(n, 8), 1, GEMV_THREADS, 0, 1, k);
        }
        String prefix = split ? "gemm_decode_split_m" : "gemm_decode_m";
        if (m <= DECODE_MAX_M) {
            int mt = m <= 16 ? 1 : m <= 32 ? 2 : 4;
            int gx = ceil(n, 8 * mt);
            int gy = ceil(m, 16 * mt);
            int splits = 1;
            int kLen = ceil(k, DECODE_ROUND) * DECODE_ROUND;
            long blocks = (long) gx * gy;
            if (blocks < TARGET_BLOCKS && k >= 2 * DECODE_ROUND) {
                int want = (int) Math.min(MAX_SPLITS, (TARGET_BLOCKS + blocks - 1) / blocks);
                while (want > 1 && (long) want * m * n > partialFloats) {
                    want--;
                }
                if (want > 1) {
                    kLen = ceil(ceil(k, want), DECODE_ROUND) * DECODE_ROUND;
                    splits = ceil(k, kLen);
                }
            }
            return new GemmPlan(prefix + mt, gx, gy, DECODE_THREADS, 0, splits, kLen);
        }
        int tiles = split ? 3 : 2;
        return new GemmPlan(split ? "gemm_tiled_split" : "gemm_tiled_plain", ceil(n, TILE), ceil(m, TILE), 256,
                STAGES * tiles * TILE * TILE_K * 2, 1, k);
    }

    /** The decode kernel (which takes the split-K workspace and k per split). */
    public boolean decode() {
        return kernel.startsWith("gemm_decode");
    }

    public boolean gemv() {
        return kernel.startsWith("gemm_gemv");
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }
}
