package kittyspark.pipeline.executor;

import java.util.concurrent.CompletableFuture;

import kittyspark.pipeline.plan.PromptTokenizer;
import kittyspark.runtime.engine.EngineStats;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;

/**
 * What a partition needs from an engine. The real one wraps the runtime's GenerationEngine
 * ({@link RuntimeGenerationService}); keeping this narrow lets the streaming logic be tested
 * without a model. Implementations are thread-safe: every task of an executor shares one.
 */
public interface GenerationService extends PromptTokenizer, AutoCloseable {

    CompletableFuture<GenerationResult> submit(GenerationRequest request);

    /**
     * How many sequences shaped like {@code request} (prompt length, max new tokens, KV mode) the
     * engine runs at once, by its admission's own limits; 0 when it cannot hold even one.
     */
    int capacity(GenerationRequest request);

    String modelName();

    /** The backend device actually used: "cpu", "cuda:0", ... */
    String device();

    EngineStats stats();

    /** The text of token ids (to tell which stop string ended a completion). */
    String decode(int[] tokens);

    /**
     * Re-scores prompt + {@code result}'s completion with the cache {@code kv} and with a
     * full-precision cache (reusing the logits {@code result} kept, if any: ask for them with
     * {@link GenerationRequest#keepLogits}). Does not wait: requests made while others are
     * queued are re-scored together.
     */
    CompletableFuture<FidelityScores> fidelity(int[] prompt, GenerationResult result, KvSettings kv);

    @Override
    void close();

    /** The fidelity check's numbers, as defined in the output contract. */
    record FidelityScores(double refMeanLogprob, double quantMeanLogprob, double deltaNll, double top1Agreement, double kl) {
    }
}
