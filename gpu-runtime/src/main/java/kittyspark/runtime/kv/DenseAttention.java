package kittyspark.runtime.kv;

/** Causal softmax attention over full-precision keys and values, fp32, GQA-aware. */
public final class DenseAttention {
    private DenseAttention() {
    }

    /**
     * @param q      {@code [n][numHeads*headDim]}: the last n of {@code length} positions
     * @param keys   {@code [length][numKvHeads*headDim]}
     * @param values {@code [length][numKvHeads*headDim]}
     * @param out    {@code [n][numHeads*headDim]}
     */
    public static void causal(KvGeometry g, float[] q, int n, float[] keys, float[] values, int length, float[] out) {
        int hd = g.headDim();
        int kvw = g.kvWidth();
        int qw = g.qWidth();
        int group = g.groupSize();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] scores = new float[length];
        for (int i = 0; i < n; i++) {
            int visible = length - n + i + 1;
            for (int h = 0; h < g.numHeads(); h++) {
                int qo = i * qw + h * hd;
                int ko = (h / group) * hd;
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < visible; t++) {
                    int kb = t * kvw + ko;
                    float s = 0f;
                    for (int d = 0; d < hd; d++) {
                        s += q[qo + d] * keys[kb + d];
                    }
                    s *= scale;
                    scores[t] = s;
                    if (s > max) {
                        max = s;
                    }
                }
                float sum = 0f;
                for (int t = 0; t < visible; t++) {
                    float e = (float) Math.exp(scores[t] - max);
                    scores[t] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                int oo = i * qw + h * hd;
                for (int d = 0; d < hd; d++) {
                    out[oo + d] = 0f;
                }
                for (int t = 0; t < visible; t++) {
                    float p = scores[t] * inv;
                    int vb = t * kvw + ko;
                    for (int d = 0; d < hd; d++) {
                        out[oo + d] += p * values[vb + d];
                    }
                }
            }
        }
    }
}
