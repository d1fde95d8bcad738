package kittyspark.runtime.kv;

import kittyspark.kvquant.Fp16;
import kittyspark.kvquant.QuantConfig;
import kittyspark.kvquant.QuantizedKvStream;
import kittyspark.runtime.checkpoint.KvGeometry;

/**
 * The {@code kivi} and {@code kitty} caches: one {@link QuantizedKvStream} per layer and KV
 * head. A step appends its keys and values, attends over what the streams hold (new tokens
 * still in full-precision buffers), and only then turns full buffers into pages, so prefill
 * attends in full precision and decode reads the quantized pages.
 */
public final class QuantizedKvCache implements KvCache {
    private final KvGeometry g;
    private final QuantizedKvStream[][] streams;
    private final AttentionKernel kernel;

    public QuantizedKvCache(KvSettings settings, KvGeometry geometry) {
        this(settings, geometry, AttentionKernel.REFERENCE);
    }

    public QuantizedKvCache(KvSettings settings, KvGeometry geometry, AttentionKernel kernel) {
        this.g = geometry;
        this.kernel = kernel;
        QuantConfig config = settings.quantConfig();
        this.streams = new QuantizedKvStream[g.numLayers()][g.numKvHeads()];
        for (int l = 0; l < g.numLayers(); l++) {
            for (int h = 0; h < g.numKvHeads(); h++) {
                streams[l][h] = new QuantizedKvStream(config, g.headDim());
            }
        }
    }

    @Override
    public KvGeometry geometry() {
        return g;
    }

    @Override
    public int length(int layer) {
        return streams[layer][0].length();
    }

    /**
     * Keys and values are rounded to fp16 first: that is how a device holds the full-precision
     * regions (sink, key buffer, value window) and what its quantize kernels read, so this
     * reference and the CUDA backend attend over the same values and make the same codes.
     */
    @Override
    public void append(int layer, float[] k, float[] v, int n) {
        float[] k16 = toFp16Values(k, n * g.kvWidth());
        float[] v16 = toFp16Values(v, n * g.kvWidth());
        for (int h = 0; h < g.numKvHeads(); h++) {
            streams[layer][h].append(k16, h * g.headDim(), v16, h * g.headDim(), g.kvWidth(), n);
        }
    }

    private static float[] toFp16Values(float[] x, int count) {
        float[] r = new float[count];
        for (int i = 0; i < count; i++) {
            r[i] = Fp16.round(x[i]);
        }
        return r;
    }

    @Override
    public void attend(int layer, float[] q, int n, float[] out) {
        int group = g.groupSize();
        for (int h = 0; h < g.numKvHeads(); h++) {
            QuantizedKvStream s = streams[layer][h];
            int qOff = h * group * g.headDim();
            kernel.causalRows(s.keys(), 0, g.headDim(), s.values(), s.length(), g.headDim(), q, qOff, g.qWidth(), group, n, 0, n, out);
        }
        for (int h = 0; h < g.numKvHeads(); h++) {
            streams[layer][h].flush();
        }
    }

    /** One layer's stream of one KV head, for inspection (pages, buffers, bytes). */
    public QuantizedKvStream stream(int layer, int kvHead) {
        return streams[layer][kvHead];
    }

    @Override
    public long storedBytes() {
        long bytes = 0;
        for (QuantizedKvStream[] layer : streams) {
            for (QuantizedKvStream s : layer) {
                bytes += s.storedBytes();
            }
        }
        return bytes;
    }
}
