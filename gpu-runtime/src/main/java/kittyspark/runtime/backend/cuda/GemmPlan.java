package kittyspark.runtime.backend.cuda;

/**
 * Which GEMM kernel of gemm.cu computes y[M,N] = x[M,K] W[N,K]^T, and its launch shape.
 * Decode shapes (M up to 256) are memory-bound: the decode kernel streams each weight once
 * per 64 rows of x, from blocks of 8 columns (M <= 16), 16 (M <= 32) or 32 (larger M, so x is
 * re-read from L2 fewer times), with deep loads in flight. Larger M goes to
 * the 128x128 tiled kernel, which reuses each loaded tile across 128 rows.
 */
public record GemmPlan(String kernel, int gridX, int gridY, int block, int sharedBytes) {
    /** The largest M the decode kernel takes (it re-reads W once per 64 rows). */
    public static final int DECODE_MAX_M = 256;
    public static final int TILE = 128;
    public static final int TILE_K = 32;
    public static final int STAGES = 3;
    /** The decode kernel's 8 warps split K. */
    public static final int DECODE_THREADS = 256;

    public static GemmPlan of(int m, int n, int k, boolean split) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("GEMM needs positive M, N, K, got " + m + "x" + n + "x" + k);
        }
        if (k % TILE_K != 0) {
            throw new IllegalArgumentException("GEMM inner dimension " + k + " is not a multiple of " + TILE_K
                    + " (the CUDA kernels read 32-wide k chunks)");
        }
        String prefix = split ? "gemm_decode_split_m" : "gemm_decode_m";
        if (m <= 16) {
            return new GemmPlan(prefix + 1, ceil(n, 8), 1, DECODE_THREADS, 0);
        }
        if (m <= 32) {
            return new GemmPlan(prefix + 2, ceil(n, 16), 1, DECODE_THREADS, 0);
        }
        if (m <= DECODE_MAX_M) {
            return new GemmPlan(prefix + 4, ceil(n, 32), ceil(m, 64), DECODE_THREADS, 0);
        }
        int tiles = split ? 3 : 2;
        return new GemmPlan(split ? "gemm_tiled_split" : "gemm_tiled_plain", ceil(n, TILE), ceil(m, TILE), 256,
                STAGES * tiles * TILE * TILE_K * 2);
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }
}
