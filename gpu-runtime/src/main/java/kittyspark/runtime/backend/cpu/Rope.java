package kittyspark.runtime.backend.cpu;

import kittyspark.runtime.checkpoint.ModelConfig;

/**
 * Rotary position embedding with Hugging Face's split-half pairing: dimension i rotates with
 * i + d/2 (not adjacent pairs). Frequencies are fp32 as in transformers; Llama 3.1 scaling is
 * applied to them when the config asks for it.
 */
public final class Rope {
    private final int headDim;
    private final float[] invFreq;

    public Rope(ModelConfig c) {
        this.headDim = c.headDim();
        int half = headDim / 2;
        double[] f = new double[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            f[i] = 1.0f / (float) Math.pow(c.ropeTheta(), exponent);
        }
        if (c.ropeScaling() != null) {
            c.ropeScaling().apply(f);
        }
        invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = (float) f[i];
        }
    }

    /** The fp32 inverse frequencies (scaling applied), one per rotated pair: what the CUDA kernel rotates with. */
    public float[] inverseFrequencies() {
        return invFreq.clone();
    }

    /** Rotates every head of one row in place: {@code heads} vectors of headDim at {@code off}. */
    public void apply(float[] x, int off, int heads, int position) {
        float[] cs = new float[headDim];
        angles(position, cs);
        rotate(x, off, heads, cs);
    }

    /** The rotation at {@code position}: cosines in {@code cs[0, d/2)}, sines in {@code cs[d/2, d)}. */
    public void angles(int position, float[] cs) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float angle = (float) position * invFreq[i];
            cs[i] = (float) Math.cos(angle);
            cs[half + i] = (float) Math.sin(angle);
        }
    }

    /** Rotates {@code heads} vectors of headDim at {@code off} by {@link #angles} {@code cs} (shared by q and k). */
    public void rotate(float[] x, int off, int heads, float[] cs) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int b = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float cos = cs[i];
                float sin = cs[half + i];
                float x1 = x[b + i];
                float x2 = x[b + i + half];
                x[b + i] = x1 * cos - x2 * sin;
                x[b + i + half] = x2 * cos + x1 * sin;
            }
        }
    }
}
