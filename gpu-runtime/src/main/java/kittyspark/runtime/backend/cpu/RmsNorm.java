package kittyspark.runtime.backend.cpu;

/** RMSNorm as Hugging Face computes it in fp32: {@code w * x / sqrt(mean(x^2) + eps)}. */
public final class RmsNorm {
    private final float[] weight;
    private final float eps;

    public RmsNorm(float[] weight, double eps) {
        this.weight = weight;
        this.eps = (float) eps;
    }

    public int dim() {
        return weight.length;
    }

    /** Normalizes {@code rows} consecutive vectors of length {@link #dim()} from x into y (may alias). */
    public void apply(float[] x, int xo, float[] y, int yo, int rows) {
        int d = weight.length;
        for (int r = 0; r < rows; r++) {
            int xb = xo + r * d;
            int yb = yo + r * d;
            float ss = 0f;
            for (int i = 0; i < d; i++) {
                ss += x[xb + i] * x[xb + i];
            }
            float inv = (float) (1.0 / Math.sqrt(ss / d + eps));
            for (int i = 0; i < d; i++) {
                y[yb + i] = weight[i] * (x[xb + i] * inv);
            }
        }
    }
}
