package kittyspark.runtime.backend.cpu;

import java.util.List;

import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvCache;

/**
 * One forward pass for Qwen3 and Llama 3, switched by config flags (q/k norm, tied
 * embeddings, RoPE scaling). A step takes several sequences at once: their new tokens are
 * stacked into one matrix so each weight is read once per step, and attention runs per
 * sequence against its own KV cache.
 */
public final class Transformer {
    /** One sequence's part of a step. */
    public record Part(KvCache cache, int[] tokens, boolean allLogits) {
    }

    private final ModelWeights w;
    private final ModelConfig c;
    private final Rope rope;
    private final WorkerPool pool;

    public Transformer(ModelWeights weights, WorkerPool pool) {
        this.w = weights;
        this.c = weights.config();
        this.rope = new Rope(c);
        this.pool = pool;
    }

    public ModelConfig config() {
        return c;
    }

    /** @return per part, logits {@code [rows][vocab]} for every fed position or only the last */
    public float[][] forward(List<Part> parts) {
        int nParts = parts.size();
        int[] rowStart = new int[nParts + 1];
        int[] startPos = new int[nParts];
        for (int i = 0; i < nParts; i++) {
            rowStart[i + 1] = rowStart[i] + parts.get(i).tokens().length;
            startPos[i] = parts.get(i).cache().length(0);
            if (startPos[i] + parts.get(i).tokens().length > c.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("sequence would reach " + (startPos[i] + parts.get(i).tokens().length)
                        + " tokens, beyond the model's context of " + c.maxPositionEmbeddings());
            }
        }
        int n = rowStart[nParts];
        int hidden = c.hiddenSize();
        int qw = c.numHeads() * c.headDim();
        int kvw = c.numKvHeads() * c.headDim();
        int inter = c.intermediateSize();

        float[] x = new float[n * hidden];
        for (int i = 0; i < nParts; i++) {
            int[] toks = parts.get(i).tokens();
            for (int t = 0; t < toks.length; t++) {
                if (toks[t] < 0 || toks[t] >= c.vocabSize()) {
                    throw new IllegalArgumentException("token id " + toks[t] + " outside the vocabulary of " + c.vocabSize());
                }
                w.embedding().readRow(toks[t], x, (rowStart[i] + t) * hidden);
            }
        }
        float[] h = new float[n * hidden];
        float[] q = new float[n * qw];
        float[] k = new float[n * kvw];
        float[] v = new float[n * kvw];
        float[] att = new float[n * qw];
        float[] proj = new float[n * hidden];
        float[] gate = new float[n * inter];
        float[] up = new float[n * inter];

        for (int l = 0; l < c.numLayers(); l++) {
            LayerWeights lw = w.layers().get(l);
            normRows(lw.inputNorm(), x, h, n, hidden);
            lw.q().apply(pool, h, n, q);
            lw.k().apply(pool, h, n, k);
            lw.v().apply(pool, h, n, v);
            positionQk(lw, q, k, n, rowStart, startPos);
            attend(l, parts, rowStart, q, k, v, att, qw, kvw);
            lw.o().apply(pool, att, n, proj);
            add(x, proj, n * hidden);

            normRows(lw.postAttentionNorm(), x, h, n, hidden);
            lw.gate().apply(pool, h, n, gate);
            lw.up().apply(pool, h, n, up);
            siluGate(gate, up, n * inter);
            lw.down().apply(pool, gate, n, proj);
            add(x, proj, n * hidden);
        }
        return logits(parts, rowStart, x);
    }

    private void normRows(RmsNorm norm, float[] x, float[] y, int n, int dim) {
        pool.forRange(n, 8, (from, to) -> norm.apply(x, from * dim, y, from * dim, to - from));
    }

    /** q/k norm (Qwen3) then RoPE, at each row's own position. */
    private void positionQk(LayerWeights lw, float[] q, float[] k, int n, int[] rowStart, int[] startPos) {
        int hd = c.headDim();
        int qw = c.numHeads() * hd;
        int kvw = c.numKvHeads() * hd;
        pool.forRange(n, 16, (from, to) -> {
            float[] cs = new float[hd];
            int part = 0;
            for (int r = from; r < to; r++) {
                while (rowStart[part + 1] <= r) {
                    part++;
                }
                int pos = startPos[part] + (r - rowStart[part]);
                if (lw.qNorm() != null) {
                    lw.qNorm().apply(q, r * qw, q, r * qw, c.numHeads());
                    lw.kNorm().apply(k, r * kvw, k, r * kvw, c.numKvHeads());
                }
                rope.angles(pos, cs);
                rope.rotate(q, r * qw, c.numHeads(), cs);
                rope.rotate(k, r * kvw, c.numKvHeads(), cs);
            }
        });
    }

    private void attend(int layer, List<Part> parts, int[] rowStart, float[] q, float[] k, float[] v,
                        float[] att, int qw, int kvw) {
        pool.forRange(parts.size(), 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                Part p = parts.get(i);
                int rows = p.tokens().length;
                int r0 = rowStart[i];
                float[] ks = slice(k, r0 * kvw, rows * kvw);
                float[] vs = slice(v, r0 * kvw, rows * kvw);
                float[] qs = slice(q, r0 * qw, rows * qw);
                float[] out = new float[rows * qw];
                p.cache().append(layer, ks, vs, rows);
                p.cache().attend(layer, qs, rows, out);
                System.arraycopy(out, 0, att, r0 * qw, rows * qw);
            }
        });
    }

    private float[][] logits(List<Part> parts, int[] rowStart, float[] x) {
        int hidden = c.hiddenSize();
        int vocab = c.vocabSize();
        float[][] out = new float[parts.size()][];
        // Only the rows whose logits are wanted go through the final norm and the (large) head.
        int wanted = 0;
        for (Part p : parts) {
            wanted += p.allLogits() ? p.tokens().length : 1;
        }
        float[] rows = new float[wanted * hidden];
        int at = 0;
        for (int i = 0; i < parts.size(); i++) {
            Part p = parts.get(i);
            int from = p.allLogits() ? rowStart[i] : rowStart[i + 1] - 1;
            int count = rowStart[i + 1] - from;
            System.arraycopy(x, from * hidden, rows, at * hidden, count * hidden);
            at += count;
        }
        normRows(w.finalNorm(), rows, rows, wanted, hidden);
        float[] all = new float[wanted * vocab];
        w.lmHead().apply(pool, rows, wanted, all);
        at = 0;
        for (int i = 0; i < parts.size(); i++) {
            int count = parts.get(i).allLogits() ? parts.get(i).tokens().length : 1;
            out[i] = slice(all, at * vocab, count * vocab);
            at += count;
        }
        return out;
    }

    private static float[] slice(float[] a, int from, int len) {
        float[] s = new float[len];
        System.arraycopy(a, from, s, 0, len);
        return s;
    }

    /** Elements per thread's share of an elementwise pass (a long prefill splits; a decode step does not). */
    private static final int ELEMENTWISE_GRAIN = 1 << 15;

    private void add(float[] x, float[] y, int len) {
        pool.forRange(len, ELEMENTWISE_GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                x[i] += y[i];
            }
        });
    }

    /** SwiGLU: gate = silu(gate) * up, in place. */
    private void siluGate(float[] gate, float[] up, int len) {
        pool.forRange(len, ELEMENTWISE_GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                float g = gate[i];
                gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
            }
        });
    }
}
