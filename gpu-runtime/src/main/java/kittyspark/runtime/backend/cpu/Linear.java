package kittyspark.runtime.backend.cpu;

import kittyspark.runtime.checkpoint.WeightTensor;

/**
 * {@code y = x W^T (+ b)} with W as stored by Hugging Face ({@code [out][in]}), read straight
 * from the mapped bf16/f16/f32 weights and accumulated in fp32 by the backend's
 * {@link MatMul}. Each weight block is widened once per call and reused for every input row,
 * so a batch (or a whole prompt) costs one pass over the weights.
 */
public final class Linear {
    private final WeightTensor weight;
    private final float[] bias;
    private final MatMul mm;

    public Linear(WeightTensor weight, float[] bias, CpuKernels kernels) {
        this.weight = weight;
        this.bias = bias;
        this.mm = kernels.matMul(weight);
    }

    public int in() {
        return weight.cols();
    }

    public int out() {
        return weight.rows();
    }

    public WeightTensor weight() {
        return weight;
    }

    /** @param x {@code [n][in]}; @param y {@code [n][out]}, overwritten */
    public void apply(WorkerPool pool, float[] x, int n, float[] y) {
        int out = out();
        int block = mm.blockRows();
        float[] xp = mm.prepare(x, n);
        // Blocks sit at fixed row indices, so each output is computed the same way whatever the
        // batch size or the split over threads.
        pool.forRange((out + block - 1) / block, mm.grain(n), (from, to) -> {
            int o0 = from * block;
            int o1 = Math.min(out, to * block);
            mm.rows(xp, n, y, o0, o1);
            if (bias != null) {
                for (int r = 0; r < n; r++) {
                    for (int o = o0; o < o1; o++) {
                        y[r * out + o] += bias[o];
                    }
                }
            }
        });
    }
}
