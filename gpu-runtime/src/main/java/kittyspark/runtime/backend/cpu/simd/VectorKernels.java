package kittyspark.runtime.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import kittyspark.runtime.backend.cpu.CpuKernels;
import kittyspark.runtime.backend.cpu.MatMul;
import kittyspark.runtime.checkpoint.WeightTensor;
import kittyspark.runtime.kv.AttentionKernel;

import static kittyspark.runtime.backend.cpu.simd.Lanes.F;
import static kittyspark.runtime.backend.cpu.simd.Lanes.L;

/**
 * The SIMD kernels, on the widest registers the JIT offers ({@code SPECIES_PREFERRED}: 512
 * bits with AVX-512, 256 with AVX2, 128 with NEON). Loaded by name only (the class links
 * against {@code jdk.incubator.vector}).
 */
public final class VectorKernels implements CpuKernels {

    /** @throws UnsupportedOperationException where registers hold fewer than four floats */
    public VectorKernels() {
        if (L < 4) {
            throw new UnsupportedOperationException("SIMD registers of at least 128 bits (this JVM offers "
                    + F.vectorBitSize() + ")");
        }
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    @Override
    public MatMul matMul(WeightTensor weight) {
        return new VectorMatMul(weight);
    }

    @Override
    public float sumOfSquares(float[] x, int off, int len) {
        int body = len - len % L;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < body; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            acc = v.fma(v, acc);
        }
        float t = 0f;
        for (int i = body; i < len; i++) {
            t += x[off + i] * x[off + i];
        }
        return acc.reduceLanes(VectorOperators.ADD) + t;
    }

    @Override
    public AttentionKernel attention() {
        return VectorAttention.INSTANCE;
    }
}
