package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.List;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.LogitMath;

/**
 * What a quantized KV cache cost on one completion: the prompt and completion are re-scored
 * teacher-forced, once with the quantized cache (prompt prefilled, completion decoded token
 * by token so the quantized pages are read) and once with the full-precision cache (prompt
 * prefilled, completion fed as one chunk: with nothing quantized, that gives the logits
 * decoding would, up to float rounding). Several completions are re-scored together, so each
 * decode step serves all of them; on a backend whose rows do not depend on their batch
 * neighbours (the CPU) the results are those of one completion at a time, bit for bit. On such
 * a backend the generation's own logits are the quantized pass, when its prompt went through in
 * one step: the engine keeps them ({@link GenerationResult#logits}) and only the full-precision
 * pass runs.
 */
public final class KvFidelity {
    private KvFidelity() {
    }

    /**
     * @param refMeanLogprob   mean log-probability of the completion under the full-precision cache
     * @param quantMeanLogprob the same under the quantized cache
     * @param deltaNll         quantized minus reference negative log-likelihood per generated token
     * @param top1Agreement    share of generated positions where both caches' most likely token agree
     * @param kl               mean KL(reference || quantized) over the generated positions
     */
    public record Result(double refMeanLogprob, double quantMeanLogprob, double deltaNll, double top1Agreement, double kl) {
        static final Result EMPTY = new Result(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    /**
     * One completion to re-score under the cache {@code kv}.
     *
     * @param quantLogits the quantized pass's logits, row-major {@code [completion.length][vocab]},
     *                    when already known (kept by the generation); null to compute them
     */
    public record Request(int[] prompt, int[] completion, KvSettings kv, float[] quantLogits) {
        public Request(int[] prompt, int[] completion, KvSettings kv) {
            this(prompt, completion, kv, null);
        }

        /** Tokens the re-scoring feeds: both passes when the quantized one is to run. */
        int tokens() {
            return (prompt.length + completion.length) * (quantLogits == null ? 2 : 1);
        }
    }

    public static Result measure(Backend backend, int[] prompt, int[] completion, KvSettings kv) {
        return measureAll(backend, List.of(new Request(prompt, completion, kv))).get(0);
    }

    /**
     * Results in the order of {@code requests}, which must all name the same cache settings
     * (one quantized pass serves them all).
     */
    public static List<Result> measureAll(Backend backend, List<Request> requests) {
        int vocab = backend.config().vocabSize();
        List<Result> out = new ArrayList<>(requests.size());
        List<Request> scored = new ArrayList<>();
        List<int[]> sequences = new ArrayList<>();
        List<Integer> prefills = new ArrayList<>();
        List<int[]> toDecode = new ArrayList<>();
        List<Integer> toDecodePrefills = new ArrayList<>();
        KvSettings kv = null;
        for (Request r : requests) {
            if (kv != null && !kv.equals(r.kv())) {
                throw new IllegalArgumentException("one batch re-scores one cache: " + kv.describe() + " and " + r.kv().describe());
            }
            kv = r.kv();
            out.add(Result.EMPTY);
            if (r.completion().length == 0) {
                continue;
            }
            if (r.quantLogits() != null && r.quantLogits().length != r.completion().length * vocab) {
                throw new IllegalArgumentException("kept logits hold " + r.quantLogits().length + " values, not "
                        + r.completion().length + " rows of " + vocab);
            }
            int[] all = new int[r.prompt().length + r.completion().length];
            System.arraycopy(r.prompt(), 0, all, 0, r.prompt().length);
            System.arraycopy(r.completion(), 0, all, r.prompt().length, r.completion().length);
            scored.add(r);
            sequences.add(all);
            prefills.add(r.prompt().length);
            if (r.quantLogits() == null) {
                toDecode.add(all);
                toDecodePrefills.add(r.prompt().length);
            }
        }
        if (sequences.isEmpty()) {
            return out;
        }
        List<float[]> decoded = toDecode.isEmpty() ? List.of() : TeacherForcing.decodeLogits(backend, kv, toDecode, toDecodePrefills);
        List<float[]> quant = new ArrayList<>(scored.size());
        int d = 0;
        for (Request r : scored) {
            quant.add(r.quantLogits() != null ? r.quantLogits() : decoded.get(d++));
        }
        List<float[]> ref = kv.mode() == KvMode.FP16 ? quant
                : TeacherForcing.chunkLogits(backend, KvSettings.of(KvMode.FP16), sequences, prefills);
        int s = 0;
        for (int i = 0; i < requests.size(); i++) {
            int[] completion = requests.get(i).completion();
            if (completion.length > 0) {
                out.set(i, compare(ref.get(s), quant.get(s), completion, vocab));
                s++;
            }
        }
        return out;
    }

    private static Result compare(float[] ref, float[] quant, int[] completion, int vocab) {
        double refLp = 0;
        double quantLp = 0;
        double kl = 0;
        int agree = 0;
        for (int j = 0; j < completion.length; j++) {
            int off = j * vocab;
            refLp += LogitMath.logProb(ref, off, vocab, completion[j]);
            quantLp += LogitMath.logProb(quant, off, vocab, completion[j]);
            kl += LogitMath.kl(ref, off, quant, off, vocab);
            if (LogitMath.argmax(ref, off, vocab) == LogitMath.argmax(quant, off, vocab)) {
                agree++;
            }
        }
        int n = completion.length;
        return new Result(refLp / n, quantLp / n, (refLp - quantLp) / n, (double) agree / n, kl / n);
    }
}
