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

    void addToken(int token, double logprob) {
        if (generatedCount == generated.length) {
            generated = java.util.Arrays.copyOf(generated, generated.length * 2);
        }
        generated[generatedCount++] = token;
        logprobSum += logprob;
    }

    int[] tokens() {
        return java.util.Arrays.copyOf(generated, generatedCount);
    }
}
