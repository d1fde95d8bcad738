package kittyspark.runtime.backend.cuda.gemm;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;

/** The GEMM kernels of gemm.cu, launched as a {@link GemmPlan} says. */
public final class TiledGemm implements Gemm {
    private final Kernels kernels;
    private final boolean split;
    private final CUdeviceptr partial;
    private final long partialFloats;
    private final int gemvMaxM;

    /**
     * Our kernels as {@link GemmPlan#of(int, int, int, boolean, long)} picks them (the GEMV
     * kernel up to {@link GemmPlan#GEMV_MAX_M} rows).
     *
     * @param split         whether operands come as hi and lo bf16 planes
     * @param partial       split-K partial workspace (may be null when {@code partialFloats} is 0)
     * @param partialFloats its capacity in floats
     */
    public TiledGemm(Kernels kernels, boolean split, CUdeviceptr partial, long partialFloats) {
        this(kernels, split, partial, partialFloats, GemmPlan.GEMV_MAX_M);
    }

    /** @param gemvMaxM the largest M for the GEMV kernel; 0 leaves every decode shape to the decode kernel */
    public TiledGemm(Kernels kernels, boolean split, CUdeviceptr partial, long partialFloats, int gemvMaxM) {
        this.kernels = kernels;
        this.split = split;
        this.partial = partial;
        this.partialFloats = partialFloats;
        this.gemvMaxM = gemvMaxM;
        GemmPlan tiled = GemmPlan.of(GemmPlan.DECODE_MAX_M + 1, GemmPlan.TILE, GemmPlan.TILE_K, split);
        kernels.allowSharedMemory(tiled.kernel(), tiled.sharedBytes());
    }

    public GemmPlan plan(int m, int n, int k) {
        return GemmPlan.of(m, n, k, split, partialFloats, gemvMaxM);
    }

    @Override
    public void run(CUdeviceptr aHi, CUdeviceptr aLo, CUdeviceptr w, CUdeviceptr out, int m, int n, int k, boolean accumulate) {
        launch(kernels, plan(m, n, k), aHi, split ? aLo : null, w, out, m, n, k, accumulate, partial);
    }

    @Override
    public String describe(int m, int n, int k) {
        GemmPlan p = plan(m, n, k);
        return p.splits() > 1 ? p.kernel() + " x" + p.splits() + " splits" : p.kernel();
    }

    /** Launches a GEMM of {@code plan}: out[M,N] (+)= a[M,K] . w[N,K]^T (a as bf16 hi and optional lo). */
    public static void launch(Kernels kernels, GemmPlan p, CUdeviceptr hi, CUdeviceptr lo, CUdeviceptr w,
                              CUdeviceptr out, int m, int n, int k, boolean accumulate, CUdeviceptr partial) {
        KernelArgs a = new KernelArgs().ptr(hi).ptr(lo).ptr(w).ptr(out).i32(m).i32(n).i32(k).i32(accumulate ? 1 : 0);
        if (p.decode()) {
            a.ptr(partial).i32(p.kLen());
        }
        kernels.launch(p.kernel(), p.gridX(), p.gridY(), p.splits(), p.block(), p.sharedBytes(), a);
        if (p.splits() > 1) {
            long total = (long) m * n;
            int blocks = (int) Math.max(1, Math.min(2048, (total + 255) / 256));
            kernels.launch("gemm_splitk_reduce", blocks, 1, 256, 0, new KernelArgs().ptr(partial).ptr(out).i32(m).i32(n)
                    .i32(p.splits()).i32(accumulate ? 1 : 0));
        }
    }
}
