package kittyspark.runtime.backend.cuda.gemm;

import jcuda.driver.CUdeviceptr;

/**
 * The one GEMM seam of the CUDA backend: {@code out[M,N] (+)= a[M,K] . w[N,K]^T} with bf16
 * weights {@code w}, the operand {@code a} as bf16 (and, in split precision, a second bf16
 * plane {@code aLo} holding what bf16 rounding dropped) and fp32 {@code out}, on the engine's
 * stream. Implementations differ only in speed; results agree to bf16-product accuracy.
 */
public interface Gemm {
    /** @param aLo the operand's low plane, or null when the backend runs in plain bf16 */
    void run(CUdeviceptr aHi, CUdeviceptr aLo, CUdeviceptr w, CUdeviceptr out, int m, int n, int k, boolean accumulate);

    /**
     * Which implementation computes the shape, e.g. "gemm_gemv_m8" or "cublasLt#0 algo 21 tile
     * 128x256" (benchmarks print it). Two descriptions are equal only when the same kernels run.
     */
    String describe(int m, int n, int k);

    /**
     * Whether this implementation computes the shape at all: our kernels take every shape the
     * backend makes; a cuBLASLt candidate only those its heuristic has an algorithm of that rank for.
     */
    default boolean supports(int m, int n, int k) {
        return true;
    }
}
