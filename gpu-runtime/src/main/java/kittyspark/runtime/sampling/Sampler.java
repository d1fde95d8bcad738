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
        int[] order = byLogitDescending(logits, off, vocab);
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

    /**
     * Token ids by logit, best first, equal logits in id order: the order a stable sort by
     * {@code Float.compare} (descending) gives, found with four stable byte passes of a radix
     * sort instead of a comparison sort of boxed ids (sampling a token is once per token, and
     * a large vocabulary made the sort cost more than the model step).
     */
    static int[] byLogitDescending(float[] logits, int off, int vocab) {
        int[] keys = new int[vocab];
        int[] ids = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            int bits = Float.floatToIntBits(logits[off + i]);
            int ascending = bits ^ ((bits >> 31) & 0x7fffffff); // signed order = Float.compare order
            keys[i] = ~ascending ^ Integer.MIN_VALUE;          // unsigned order = descending
            ids[i] = i;
        }
        int[] keys2 = new int[vocab];
        int[] ids2 = new int[vocab];
        int[] start = new int[257];
        for (int shift = 0; shift < 32; shift += 8) {
            Arrays.fill(start, 0);
            for (int i = 0; i < vocab; i++) {
                start[((keys[i] >>> shift) & 0xff) + 1]++;
            }
            if (start[((keys[0] >>> shift) & 0xff) + 1] == vocab) {
                continue; // every key has this byte: the pass would not move anything
            }
            for (int b = 0; b < 256; b++) {
                start[b + 1] += start[b];
            }
            for (int i = 0; i < vocab; i++) {
                int d = start[(keys[i] >>> shift) & 0xff]++;
                keys2[d] = keys[i];
                ids2[d] = ids[i];
            }
            int[] t = keys;
            keys = keys2;
            keys2 = t;
            t = ids;
            ids = ids2;
            ids2 = t;
        }
        return ids;
    }
}
