package kittyspark.runtime.backend.cpu;

import java.util.Locale;

import kittyspark.runtime.checkpoint.WeightTensor;
import kittyspark.runtime.kv.AttentionKernel;

/**
 * The arithmetic that dominates the CPU forward pass: matrix products over the weights and
 * attention over the KV caches. Two sets give the same bits: {@code scalar}, plain Java, and
 * {@code vector} on {@code jdk.incubator.vector}, whose lanes run the scalar code's own
 * accumulation chains side by side (several weight rows, or channels, at once) with the same
 * non-fused multiply and add, so every sum is taken in the scalar order. Switching sets never
 * changes a logit, a greedy completion or a quantized page. RMSNorm, RoPE and SiLU are linear
 * in the row width, a small share of a step, and stay scalar.
 */
public interface CpuKernels {
    /** System property choosing the set: {@code auto} (default), {@code vector} or {@code scalar}. */
    String PROPERTY = "kittyspark.cpu.kernels";
    String VECTOR_MODULE = "jdk.incubator.vector";

    /** "scalar", or "vector" with its register width, e.g. "vector-512". */
    String name();

    MatMul matMul(WeightTensor weight);

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
