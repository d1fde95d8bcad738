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
    public AttentionKernel attention() {
        return AttentionKernel.REFERENCE;
    }
}
