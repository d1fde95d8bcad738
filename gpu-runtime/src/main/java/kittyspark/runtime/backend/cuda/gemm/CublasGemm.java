package kittyspark.runtime.backend.cuda.gemm;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.driver.DeviceAddresses;

/**
 * A GEMM through cuBLAS: either cuBLASLt with the shape's {@code rank}-th heuristic algorithm
 * (the selector times a few ranks, since the heuristic's first choice is not always the fastest),
 * or plain cublasGemmEx. bf16 operands, fp32 compute and output; in split precision the low
 * plane is a second GEMM that adds onto the first (beta = 1), as our kernels' second mma does.
 */
public final class CublasGemm implements Gemm {
    /** The rank of plain cublasGemmEx (no heuristic list). */
    private static final int GEMM_EX = -1;

    private final Cublas cublas;
    private final boolean split;
    private final int rank;

    private CublasGemm(Cublas cublas, boolean split, int rank) {
        this.cublas = cublas;
        this.split = split;
        this.rank = rank;
    }

    /** cuBLASLt with the {@code rank}-th (0 = the heuristic's first) algorithm of each shape. */
    public static CublasGemm lt(Cublas cublas, boolean split, int rank) {
        if (rank < 0 || rank >= Cublas.HEURISTIC_RESULTS) {
            throw new IllegalArgumentException("cuBLASLt ranks are 0.." + (Cublas.HEURISTIC_RESULTS - 1) + ", not " + rank);
        }
        return new CublasGemm(cublas, split, rank);
    }

    /** cublasGemmEx with its default algorithm. */
    public static CublasGemm gemmEx(Cublas cublas, boolean split) {
        return new CublasGemm(cublas, split, GEMM_EX);
    }

    @Override
    public void run(CUdeviceptr aHi, CUdeviceptr aLo, CUdeviceptr w, CUdeviceptr out, int m, int n, int k, boolean accumulate) {
        if (rank == GEMM_EX) {
            cublas.gemmEx(aHi, w, out, m, n, k, accumulate);
            if (split) {
                cublas.gemmEx(aLo, w, out, m, n, k, true);
            }
            return;
        }
        int alignment = Cublas.alignment(DeviceAddresses.of(aHi), split ? DeviceAddresses.of(aLo) : 0,
                DeviceAddresses.of(w), DeviceAddresses.of(out));
        cublas.ltMatmul(rank, aHi, w, out, m, n, k, accumulate, alignment);
        if (split) {
            cublas.ltMatmul(rank, aLo, w, out, m, n, k, true, alignment);
        }
    }

    @Override
    public boolean supports(int m, int n, int k) {
        return rank == GEMM_EX || cublas.ltAlgorithms(m, n, k) > rank;
    }

    @Override
    public String describe(int m, int n, int k) {
        String what = rank == GEMM_EX ? "cublasGemmEx" : "cublasLt#" + rank + " " + cublas.ltDescribe(rank, m, n, k);
        return split ? what + " x2 (hi, lo)" : what;
    }
}
