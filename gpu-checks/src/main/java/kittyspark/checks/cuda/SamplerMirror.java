package kittyspark.checks.cuda;

/**
 * The device sampler's rule (sampling.cu) in Java, for checks: the kept set is the top-k
 * logits, cut to the smallest head whose probability mass at the temperature reaches top-p;
 * the draw u = Philox(seed, tokenIndex) * kept mass walks the kept tokens in id order.
 */
public final class SamplerMirror {
    private SamplerMirror() {
    }

    public static int pick(float[] logits, int off, int vocab, float temperature, int topK, float topP, long seed, int tokenIndex) {
        int argmax = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[off + i] > logits[off + argmax]) {
                argmax = i;
            }
        }
        if (temperature <= 0f) {
            return argmax;
        }
        float max = logits[off + argmax];
        float[] sorted = new float[vocab];
        System.arraycopy(logits, off, sorted, 0, vocab);
        java.util.Arrays.sort(sorted);
        float tau = topK > 0 && topK < vocab ? sorted[vocab - topK] : Float.NEGATIVE_INFINITY;
        double invT = 1.0 / temperature;
        if (topP < 1f) {
            double total = 0;
            for (int i = vocab - 1; i >= 0 && sorted[i] >= tau; i--) {
                total += Math.exp((sorted[i] - max) * invT);
            }
            double cum = 0;
            for (int i = vocab - 1; i >= 0 && sorted[i] >= tau; i--) {
                cum += Math.exp((sorted[i] - max) * invT);
                if (cum >= topP * total) {
                    tau = sorted[i];
                    break;
                }
            }
        }
        double mass = 0;
        for (int i = 0; i < vocab; i++) {
            if (logits[off + i] >= tau) {
                mass += Math.exp((logits[off + i] - max) * invT);
            }
        }
        double u = Philox.uniform(seed, tokenIndex) * mass;
        double run = 0;
        int last = argmax;
        for (int i = 0; i < vocab; i++) {
            if (logits[off + i] >= tau) {
                run += Math.exp((logits[off + i] - max) * invT);
                last = i;
                if (u < run) {
                    return i;
                }
            }
        }
        return last;
    }
}
