package kittyspark.runtime.eval;

import java.util.List;

import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.checkpoint.KvGeometry;
import kittyspark.runtime.kv.FullPrecisionKvCache;
import kittyspark.runtime.kv.KvCache;

/**
 * Mean |k| per key channel and per page of tokens for one layer: the outlier channels that
 * make per-page channel boosting pay. Recorded by a cache that sees the keys after RoPE (and
 * q/k norm), exactly as the quantizer does.
 */
public final class KeyChannelMagnitudes {
    /**
     * @param magnitude {@code [pages][numKvHeads * headDim]} mean |k| of each channel over each page
     */
    public record Heatmap(int layer, int pageSize, int channels, float[][] magnitude) {
    }

    private KeyChannelMagnitudes() {
    }

    public static Heatmap measure(CpuBackend backend, int[] tokens, int layer, int pageSize) {
        KvGeometry g = backend.config().kvGeometry();
        int pages = Math.max(1, tokens.length / pageSize);
        float[][] sums = new float[pages][g.kvWidth()];
        KvCache recorder = new Recorder(new FullPrecisionKvCache(g), layer, pageSize, sums);
        SequenceState s = backend.newSequence(recorder);
        backend.forward(List.of(new ForwardInput(s, java.util.Arrays.copyOf(tokens, pages * pageSize), false)));
        s.release();
        return new Heatmap(layer, pageSize, g.kvWidth(), sums);
    }

    /** Passes everything to the real cache, and adds each key of one layer to its page's sums. */
    private record Recorder(KvCache delegate, int layer, int pageSize, float[][] sums) implements KvCache {
        @Override
        public KvGeometry geometry() {
            return delegate.geometry();
        }

        @Override
        public int length(int l) {
            return delegate.length(l);
        }

        @Override
        public void append(int l, float[] k, float[] v, int n) {
            if (l == layer) {
                int width = geometry().kvWidth();
                int start = delegate.length(l);
                for (int t = 0; t < n; t++) {
                    int page = (start + t) / pageSize;
                    if (page < sums.length) {
                        for (int c = 0; c < width; c++) {
                            sums[page][c] += Math.abs(k[t * width + c]) / pageSize;
                        }
                    }
                }
            }
            delegate.append(l, k, v, n);
        }

        @Override
        public void attend(int l, float[] q, int n, float[] out) {
            delegate.attend(l, q, n, out);
        }

        @Override
        public long storedBytes() {
            return delegate.storedBytes();
        }
    }
}
