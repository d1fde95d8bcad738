package kittyspark.runtime.engine;

import java.util.concurrent.CompletableFuture;

import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.sampling.Sampler;

/** The engine's book-keeping for one admitted request. */
final class RunningSequence {
    final GenerationRequest request;
    final CompletableFuture<GenerationResult> future;
    final Sampler sampler;
    final long submittedNanos;
    SequenceState state;
    long admittedNanos;
    long prefillDoneNanos;
    /** Prompt tokens not yet fed. */
    int promptFed;
    /** Steps the prompt took: the kept logits are teacher forcing's only if it took one. */
    int prefillSteps;
    /** The logits each generated token was drawn from, while they are kept (null otherwise). */
    java.util.List<float[]> keptLogits;
    int[] generated = new int[16];
    int generatedCount;
    double logprobSum;
    String stopCut;
    FinishReason finish;

    RunningSequence(GenerationRequest request, CompletableFuture<GenerationResult> future, long submittedNanos) {
        this.request = request;
        this.future = future;
        this.sampler = new Sampler(request.params());
        this.submittedNanos = submittedNanos;
    }

    boolean prefilling() {
        return promptFed < request.prompt().length;
    }

    int lastToken() {
        return generated[generatedCount - 1];
    }

    boolean keepsLogits() {
        return keptLogits != null;
    }

    void addToken(int token, double logprob, float[] logits) {
        if (keptLogits != null) {
            if (logits == null || prefillSteps != 1) {
                keptLogits = null; // not given, or not what re-scoring would compute: it re-scores
            } else {
                keptLogits.add(logits);
            }
        }
        addToken(token, logprob);
    }

    void addToken(int token, double logprob) {
        if (generatedCount == generated.length) {
            generated = java.util.Arrays.copyOf(generated, generated.length * 2);
        }
        generated[generatedCount++] = token;
        logprobSum += logprob;
    }

    /** The kept logits, row-major {@code [generated][vocab]}, or null. */
    float[] logits(int vocab) {
        if (keptLogits == null || keptLogits.size() != generatedCount) {
            return null;
        }
        float[] all = new float[generatedCount * vocab];
        for (int i = 0; i < generatedCount; i++) {
            System.arraycopy(keptLogits.get(i), 0, all, i * vocab, vocab);
        }
        return all;
    }

    int[] tokens() {
        return java.util.Arrays.copyOf(generated, generatedCount);
    }
}
