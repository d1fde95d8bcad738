package kittyspark.pipeline;

import kittyspark.runtime.engine.FinishReason;
import kittyspark.runtime.engine.GenerationResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** Builds one output row: the input row's own values followed by the generated columns. */
final class OutputRow {
    private OutputRow() {
    }

    static Row generated(Row input, int inputWidth, RowPlan plan, GenerationResult r, GenerationService.FidelityScores f,
                         String model, String kvMode, EngineRef engine) {
        boolean failed = r.finishReason() == FinishReason.ERROR;
        return build(input, inputWidth, plan,
                failed ? null : r.completion(),
                r.promptTokens() > 0 ? r.promptTokens() : null,
                failed ? null : r.completionTokens(),
                r.finishReason().id(),
                failed ? (r.error() == null ? "generation failed" : r.error()) : null,
                model, kvMode,
                r.queueNanos() / 1e6, r.prefillNanos() / 1e6, r.decodeNanos() / 1e6,
                failed || Double.isNaN(r.meanLogprob()) ? null : r.meanLogprob(), f, engine);
    }

    static Row failed(Row input, int inputWidth, RowPlan plan, Integer promptTokens, String error, String model, String kvMode,
                      EngineRef engine) {
        return build(input, inputWidth, plan, null, promptTokens, null, FinishReason.ERROR.id(), error, model, kvMode,
                null, null, null, null, null, engine);
    }

    private static Row build(Row input, int inputWidth, RowPlan plan, String completion, Integer promptTokens, Integer completionTokens,
                             String finishReason, String error, String model, String kvMode,
                             Double queueMs, Double prefillMs, Double decodeMs, Double meanLogprob,
                             GenerationService.FidelityScores f, EngineRef engine) {
        int n = inputWidth; // the input's own columns come first; planning columns after them are dropped
        Object[] values = new Object[n + OutputSchema.ADDED.size()];
        for (int i = 0; i < n; i++) {
            values[i] = input.get(i);
        }
        int i = n;
        values[i++] = completion;
        values[i++] = promptTokens;
        values[i++] = completionTokens;
        values[i++] = finishReason;
        values[i++] = error;
        values[i++] = model;
        values[i++] = kvMode;
        values[i++] = queueMs;
        values[i++] = prefillMs;
        values[i++] = decodeMs;
        values[i++] = meanLogprob;
        values[i++] = f == null ? null : f.refMeanLogprob();
        values[i++] = f == null ? null : f.deltaNll();
        values[i++] = f == null ? null : f.top1Agreement();
        values[i++] = f == null ? null : f.kl();
        values[i++] = plan.fingerprint();
        values[i++] = plan.row().occurrence();
        values[i] = engine == null ? null
                : RowFactory.create(engine.executorId(), engine.gpu(), engine.device(), engine.instance());
        return RowFactory.create(values);
    }
}
