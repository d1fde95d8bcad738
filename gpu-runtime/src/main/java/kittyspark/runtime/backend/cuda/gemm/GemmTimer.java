package kittyspark.runtime.backend.cuda.gemm;

/** Measures a GEMM implementation on one shape, for {@link GemmSelector}. */
@FunctionalInterface
public interface GemmTimer {
    /**
     * Milliseconds one call of {@code gemm} takes at {@code m x n x k} (accumulate off), run on
     * buffers the timer owns, so timing never touches live data.
     */
    double millis(Gemm gemm, int m, int n, int k);
}
