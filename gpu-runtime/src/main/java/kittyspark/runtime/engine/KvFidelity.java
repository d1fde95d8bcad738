package kittyspark.runtime.engine;

import java.util.List;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.LogitMath;

/**
 * What a quantized KV cache cost on one completion: the prompt and completion are re-scored
 * teacher-forced, once with the quantized cache (prompt prefilled, completion decoded token
 * by token so the quantized pages are read) and once with the full-precision cache.
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

    public static Result measure(Backend backend, int[] prompt, int[] completion, KvSettings kv) {
        if (completion.length == 0) {
            return Result.EMPTY;
        }
        int[] all = new int[prompt.length + completion.length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(completion, 0, all, prompt.length, completion.length);
        int vocab = backend.config().vocabSize();
        float[] quant = TeacherForcing.decodeLogits(backend, kv, List.of(all), List.of(prompt.length)).get(0);
        float[] ref = kv.mode() == KvMode.FP16 ? quant
                : TeacherForcing.decodeLogits(backend, KvSettings.of(KvMode.FP16), List.of(all), List.of(prompt.length)).get(0);
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
