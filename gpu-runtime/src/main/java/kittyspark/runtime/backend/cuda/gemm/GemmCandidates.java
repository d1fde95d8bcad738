package kittyspark.runtime.backend.cuda.gemm;

import java.util.ArrayList;
import java.util.List;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.Kernels;

/**
 * The GEMM implementations a backend chooses among, in order of preference: our kernels (with
 * the GEMV kernel for M <= 16, then without it, the decode kernel taking every M up to 256),
 * then, where the machine has cuBLAS, cuBLASLt's first {@link #LT_RANKS} heuristic algorithms
 * and cublasGemmEx. Without cuBLAS the list is our kernels alone and {@link #summary} says why.
 */
public final class GemmCandidates implements AutoCloseable {
    /** cuBLASLt heuristic ranks timed per shape. */
    public static final int LT_RANKS = 4;

    private final List<Gemm> all;
    private final Cublas cublas;
    private final String summary;

    private GemmCandidates(List<Gemm> all, Cublas cublas, String summary) {
        this.all = List.copyOf(all);
        this.cublas = cublas;
        this.summary = summary;
    }

    /**
     * @param partial        the decode kernel's split-K workspace ({@code partialFloats} floats)
     * @param cublasWorkspace device memory for cuBLAS, {@code cublasBytes} long
     *                        ({@link Cublas#WORKSPACE_BYTES}); null with {@code useCublas} false
     * @param useCublas       false keeps our kernels alone (no cuBLAS loaded)
     */
    public static GemmCandidates open(CudaContext ctx, Kernels kernels, boolean split, CUdeviceptr partial, long partialFloats,
                                      CUdeviceptr cublasWorkspace, long cublasBytes, boolean useCublas) {
        List<Gemm> list = new ArrayList<>();
        list.add(new TiledGemm(kernels, split, partial, partialFloats));
        list.add(new TiledGemm(kernels, split, partial, partialFloats, 0));
        if (!useCublas) {
            return new GemmCandidates(list, null, "our kernels only (cuBLAS not asked for)");
        }
        Cublas.Availability a = Cublas.open(ctx, cublasWorkspace, cublasBytes);
        if (!a.available()) {
            return new GemmCandidates(list, null, "our kernels only: " + a.reason());
        }
        for (int r = 0; r < LT_RANKS; r++) {
            list.add(CublasGemm.lt(a.cublas(), split, r));
        }
        list.add(CublasGemm.gemmEx(a.cublas(), split));
        return new GemmCandidates(list, a.cublas(), "our kernels, " + a.cublas().version() + ": cuBLASLt heuristic ranks 0-"
                + (LT_RANKS - 1) + " and cublasGemmEx");
    }

    public List<Gemm> all() {
        return all;
    }

    /** Whether cuBLAS is among them. */
    public boolean cublas() {
        return cublas != null;
    }

    /** What the list holds, or why it lacks cuBLAS (for the backend's one log line). */
    public String summary() {
        return summary;
    }

    @Override
    public void close() {
        if (cublas != null) {
            cublas.close();
        }
    }
}
