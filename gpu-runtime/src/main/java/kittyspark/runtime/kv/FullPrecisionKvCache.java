package kittyspark.runtime.kv;

import java.util.Arrays;

import kittyspark.runtime.checkpoint.KvGeometry;

/** The reference cache: every key and value kept as computed (fp32 on the CPU). */
public final class FullPrecisionKvCache implements KvCache {
    private final KvGeometry g;
    private final float[][] keys;
    private final float[][] values;
    private final int[] lengths;
    private final AttentionKernel kernel;

    public FullPrecisionKvCache(KvGeometry geometry) {
        this(geometry, AttentionKernel.REFERENCE);
    }

    public FullPrecisionKvCache(KvGeometry geometry, AttentionKernel kernel) {
        this.g = geometry;
        this.kernel = kernel;
        this.keys = new float[g.numLayers()][0];
        this.values = new float[g.numLayers()][0];
        this.lengths = new int[g.numLayers()];
    }

    @Override
    public KvGeometry geometry() {
        return g;
    }

    @Override
    public int length(int layer) {
        return lengths[layer];
    }

    @Override
    public void append(int layer, float[] k, float[] v, int n) {
        int w = g.kvWidth();
        int need = (lengths[layer] + n) * w;
        if (keys[layer].length < need) {
            int cap = Math.max(need, keys[layer].length * 2);
            keys[layer] = Arrays.copyOf(keys[layer], cap);
            values[layer] = Arrays.copyOf(values[layer], cap);
        }
        System.arraycopy(k, 0, keys[layer], lengths[layer] * w, n * w);
        System.arraycopy(v, 0, values[layer], lengths[layer] * w, n * w);
        lengths[layer] += n;
    }

    @Override
    public void attend(int layer, float[] q, int n, float[] out) {
        DenseAttention.causal(g, q, n, keys[layer], values[layer], lengths[layer], out, kernel);
    }

    @Override
    public long storedBytes() {
        long tokens = 0;
        for (int len : lengths) {
            tokens += len;
        }
        return tokens * g.kvWidth() * 2L * Short.BYTES;
    }

    @Override
    public void release() {
        Arrays.fill(keys, new float[0]);
        Arrays.fill(values, new float[0]);
        Arrays.fill(lengths, 0);
    }
}
