package kittyspark.runtime.eval;

import java.util.List;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.engine.TeacherForcing;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.LogitMath;

/**
 * Scores documents teacher-forced. With the full-precision cache one prefill gives every
 * position. With a quantized cache the first {@code prefill} tokens are prefilled and the rest
 * go through the decode path, so the scores reflect what the quantized pages cost.
 */
public final class Scorer {
    private final Backend backend;

    public Scorer(Backend backend) {
        this.backend = backend;
    }

    public DocumentScore score(String id, int[] tokens, KvSettings kv, int prefill) {
        int vocab = backend.config().vocabSize();
        int n = tokens.length;
        float[] logits;
        if (!kv.quantized() || prefill >= n) {
            logits = TeacherForcing.prefillLogits(backend, kv, tokens);
        } else {
            // Positions before the prefill's last one are scored by a full-precision prefill
            // (exactly what the quantized cache's prefill computes); the rest by decoding.
            // (The last position then has no logits: argmax has n - 1 entries here.)
            int headRows = prefill - 1;
            float[] tail = TeacherForcing.decodeLogits(backend, kv, List.of(tokens), List.of(prefill)).get(0);
            logits = new float[(headRows + (n - prefill)) * vocab];
            if (headRows > 0) {
                float[] head = TeacherForcing.prefillLogits(backend, kv, java.util.Arrays.copyOf(tokens, headRows));
                System.arraycopy(head, 0, logits, 0, headRows * vocab);
            }
            System.arraycopy(tail, 0, logits, headRows * vocab, (n - prefill) * vocab);
        }
        int rows = logits.length / vocab;
        double[] next = new double[n - 1];
        int[] argmax = new int[rows];
        double nll = 0;
        for (int i = 0; i < rows; i++) {
            int off = i * vocab;
            argmax[i] = LogitMath.argmax(logits, off, vocab);
            if (i < n - 1) {
                next[i] = LogitMath.logProb(logits, off, vocab, tokens[i + 1]);
                nll -= next[i];
            }
        }
        return new DocumentScore(id, tokens, n > 1 ? nll / (n - 1) : Double.NaN, next, argmax);
    }
}
