package kittyspark.pipeline.executor;

import java.util.concurrent.CompletableFuture;

import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.engine.EngineStats;
import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.engine.KvFidelity;
import kittyspark.runtime.kv.KvSettings;

/** The real engine of gpu-runtime behind the pipeline's {@link GenerationService}. */
public final class RuntimeGenerationService implements GenerationService {
    private final GenerationEngine engine;

    private RuntimeGenerationService(GenerationEngine engine) {
        this.engine = engine;
    }

    /** The factory executors use unless a test substitutes another. */
    public static EngineFactory factory() {
        return options -> new RuntimeGenerationService(GenerationEngine.open(options));
    }

    public static GenerationService open(EngineOptions options) {
        return new RuntimeGenerationService(GenerationEngine.open(options));
    }

    @Override
    public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
        return engine.submit(request);
    }

    @Override
    public int capacity(GenerationRequest request) {
        return engine.capacity(request.kv(), request.prompt().length, request.params().maxNewTokens());
    }

    @Override
    public int[] promptIds(String text, boolean renderedChat) {
        return engine.tokenizer().promptIds(text, renderedChat);
    }

    @Override
    public String decode(int[] tokens) {
        return engine.tokenizer().decode(tokens);
    }

    @Override
    public int contextLimit() {
        return engine.config().maxPositionEmbeddings();
    }

    @Override
    public String modelName() {
        return engine.modelName();
    }

    @Override
    public String device() {
        return engine.backend().device();
    }

    @Override
    public EngineStats stats() {
        return engine.stats();
    }

    @Override
    public CompletableFuture<FidelityScores> fidelity(int[] prompt, GenerationResult result, KvSettings kv) {
        return engine.fidelityAsync(prompt, result, kv).thenApply(RuntimeGenerationService::scores);
    }

    private static FidelityScores scores(KvFidelity.Result r) {
        return new FidelityScores(r.refMeanLogprob(), r.quantMeanLogprob(), r.deltaNll(), r.top1Agreement(), r.kl());
    }

    @Override
    public void close() {
        engine.close();
    }
}
