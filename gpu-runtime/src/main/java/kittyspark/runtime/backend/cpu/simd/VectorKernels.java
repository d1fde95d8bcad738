package kittyspark.runtime.backend.cpu.simd;

import kittyspark.runtime.backend.cpu.CpuKernels;
import kittyspark.runtime.backend.cpu.MatMul;
import kittyspark.runtime.backend.cpu.ScalarMatMul;
import kittyspark.runtime.checkpoint.WeightTensor;
import kittyspark.runtime.kv.AttentionKernel;

import static kittyspark.runtime.backend.cpu.simd.Lanes.F;
import static kittyspark.runtime.backend.cpu.simd.Lanes.L;

/**
 * The SIMD kernels, on the widest registers the JIT offers ({@code SPECIES_PREFERRED}: 512
 * bits with AVX-512, 256 with AVX2, 128 with NEON); the width changes speed, never results.
 * Loaded by name only (the class links against {@code jdk.incubator.vector}).
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
        // The lanes hold pairs of elements; an odd row length (no real model has one) stays scalar.
        return weight.cols() % 2 == 0 ? new VectorMatMul(weight) : new ScalarMatMul(weight);
    }

    @Override
    public AttentionKernel attention() {
        return VectorAttention.INSTANCE;
    }
}
