package kittyspark.pipeline;

import java.util.concurrent.CompletableFuture;

import kittyspark.runtime.engine.EngineStats;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;

/**
 * What a partition needs from an engine. The real one wraps the runtime's GenerationEngine
 * ({@link RuntimeGenerationService}); keeping this narrow lets the streaming logic be tested
 * without a model. Implementations are thread-safe: every task of an executor shares one.
 */
public interface GenerationService extends AutoCloseable {

    CompletableFuture<GenerationResult> submit(GenerationRequest request);

    /** The prompt ids of {@code text}, a plain prompt or a rendered chat ({@link kittyspark.runtime.tokenizer.Tokenizer#promptIds}). */
    int[] promptIds(String text, boolean renderedChat);

    /** The model's context length in tokens (prompt plus completion). */
    int contextLimit();

    String modelName();

    /** The backend device actually used: "cpu", "cuda:0", ... */
    String device();

    EngineStats stats();

    /** Re-scores prompt+completion with the cache {@code kv} and with a full-precision cache. */
    FidelityScores fidelity(int[] prompt, int[] completion, KvSettings kv);

    @Override
    void close();

    /** The fidelity check's numbers, as defined in the output contract. */
    record FidelityScores(double refMeanLogprob, double quantMeanLogprob, double deltaNll, double top1Agreement, double kl) {
    }
}
