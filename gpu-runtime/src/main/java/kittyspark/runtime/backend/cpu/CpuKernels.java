package kittyspark.runtime.backend.cpu;

import java.util.Locale;

import kittyspark.runtime.checkpoint.WeightTensor;
import kittyspark.runtime.kv.AttentionKernel;

/**
 * The arithmetic the CPU forward pass runs on: matrix products over the mapped weights,
 * RMSNorm's sum of squares and attention over the KV caches. Two sets compute the same
 * functions: {@code vector} on {@code jdk.incubator.vector} (SIMD, fp32 accumulation in
 * lanes, so sums are reordered: results agree with {@code scalar} within float rounding), and
 * {@code scalar}, plain Java, for JVMs started without the incubator module.
 */
public interface CpuKernels {
    /** System property choosing the set: {@code auto} (default), {@code vector} or {@code scalar}. */
    String PROPERTY = "kittyspark.cpu.kernels";
    String VECTOR_MODULE = "jdk.incubator.vector";

    /** "scalar", or "vector" with its register width, e.g. "vector-512". */
    String name();

    MatMul matMul(WeightTensor weight);

    /** {@code sum x[off+i]^2} for i < len, in fp32. */
    float sumOfSquares(float[] x, int off, int len);

    AttentionKernel attention();

    /** The set named by {@link #PROPERTY}. */
    static CpuKernels fromSystemProperty() {
        return select(System.getProperty(PROPERTY, "auto"));
    }

    /**
     * {@code auto}: vector when the JVM has the incubator module (and SIMD registers of at least
     * 128 bits), else scalar; {@code vector}: vector or fail naming the JVM option; {@code scalar}.
     */
    static CpuKernels select(String mode) {
        switch (mode.trim().toLowerCase(Locale.ROOT)) {
            case "scalar":
                return ScalarKernels.INSTANCE;
            case "vector": {
                CpuKernels v = VectorSupport.load();
                if (v == null) {
                    throw new IllegalStateException(PROPERTY + "=vector needs " + VectorSupport.why()
                            + ": start the JVM with --add-modules " + VECTOR_MODULE + " (or use auto or scalar)");
                }
                return v;
            }
            case "auto": {
                CpuKernels v = VectorSupport.load();
                return v != null ? v : ScalarKernels.INSTANCE;
            }
            default:
                throw new IllegalArgumentException(PROPERTY + " must be auto, vector or scalar, got '" + mode + "'");
        }
    }
}
