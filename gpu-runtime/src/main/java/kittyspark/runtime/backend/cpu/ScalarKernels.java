package kittyspark.runtime.backend.cpu;

import kittyspark.runtime.checkpoint.WeightTensor;
import kittyspark.runtime.kv.AttentionKernel;

/** Plain-Java kernels: what runs where the Vector API is not available. */
final class ScalarKernels implements CpuKernels {
    static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public MatMul matMul(WeightTensor weight) {
        return new ScalarMatMul(weight);
    }

    @Override
    public float sumOfSquares(float[] x, int off, int len) {
        float ss = 0f;
        for (int i = 0; i < len; i++) {
            ss += x[off + i] * x[off + i];
        }
        return ss;
    }

    @Override
    public AttentionKernel attention() {
        return AttentionKernel.REFERENCE;
    }
}
