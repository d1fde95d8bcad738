package kittyspark.runtime.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token of one sequence. Each request owns its random stream, seeded from the
 * request's seed, so the same seed gives the same tokens whatever else is in the batch.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /** @return the chosen token id from {@code logits[off .. off+vocab)} */
    public int next(float[] logits, int off, int vocab) {
        if (params.isGreedy()) {
            return LogitMath.argmax(logits, off, vocab);
        }
        // Candidates sorted by logit, best first; top-k and top-p cut the tail.
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[off + b], logits[off + a]));
        int keep = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
        double invT = 1.0 / params.temperature();
        double max = logits[off + order[0]] * invT;
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp(logits[off + order[i]] * invT - max);
            sum += p[i];
        }
        if (params.topP() < 1.0) {
            double cum = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cum += p[i] / sum;
                if (cum >= params.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            sum = 0;
            for (int i = 0; i < keep; i++) {
                sum += p[i];
            }
        }
        double r = random.nextDouble() * sum;
        for (int i = 0; i < keep; i++) {
            r -= p[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
