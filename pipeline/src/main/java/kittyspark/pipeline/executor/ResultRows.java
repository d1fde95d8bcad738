package kittyspark.pipeline.executor;

import kittyspark.pipeline.output.EngineRef;
import kittyspark.pipeline.output.OutputRow;
import kittyspark.pipeline.output.OutputSchema;
import kittyspark.pipeline.plan.RowPlan;
import kittyspark.runtime.engine.FinishReason;
import kittyspark.runtime.engine.GenerationResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/** Turns a row's plan and what the engine made of it into the row's output row. */
final class ResultRows {
    private final StructType inputSchema;
    private final StructType outputSchema;
    private final String model;
    private final String kvMode;
    private final Row engine;

    ResultRows(StructType inputSchema, String model, String kvMode, EngineRef engine) {
        this.inputSchema = inputSchema;
        this.outputSchema = OutputSchema.of(inputSchema);
        this.model = model;
        this.kvMode = kvMode;
        this.engine = engine == null ? null : engine.toRow();
    }

    Row generated(Row input, RowPlan plan, GenerationResult r, GenerationService.FidelityScores f) {
        boolean failed = r.finishReason() == FinishReason.ERROR;
        OutputRow out = start(input, plan)
                .set(OutputSchema.COMPLETION, failed ? null : r.completion())
                .set(OutputSchema.PROMPT_TOKENS, r.promptTokens() > 0 ? r.promptTokens() : null)
                .set(OutputSchema.COMPLETION_TOKENS, failed ? null : r.completionTokens())
                .set(OutputSchema.FINISH_REASON, r.finishReason().id())
                .set(OutputSchema.ERROR, failed ? (r.error() == null ? "generation failed" : r.error()) : null)
                .set(OutputSchema.QUEUE_MS, r.queueNanos() / 1e6)
                .set(OutputSchema.PREFILL_MS, r.prefillNanos() / 1e6)
                .set(OutputSchema.DECODE_MS, r.decodeNanos() / 1e6)
                .set(OutputSchema.MEAN_LOGPROB, failed || Double.isNaN(r.meanLogprob()) ? null : r.meanLogprob());
        if (f != null) {
            out.set(OutputSchema.KV_REF_MEAN_LOGPROB, f.refMeanLogprob())
                    .set(OutputSchema.KV_DELTA_NLL, f.deltaNll())
                    .set(OutputSchema.KV_TOP1, f.top1Agreement())
                    .set(OutputSchema.KV_KL, f.kl());
        }
        return out.toRow();
    }

    /** An error row: the row could not be generated, for the reason given. */
    Row failed(Row input, RowPlan plan, Integer promptTokens, String error) {
        return failed(input, plan.fingerprint(), plan.row().occurrence(), promptTokens, error);
    }

    /** An error row for a row that has no plan: fingerprint and occurrence come from its planning columns. */
    Row failed(Row input, String fingerprint, int occurrence, Integer promptTokens, String error) {
        return start(input, fingerprint, occurrence)
                .set(OutputSchema.PROMPT_TOKENS, promptTokens)
                .set(OutputSchema.FINISH_REASON, FinishReason.ERROR.id())
                .set(OutputSchema.ERROR, error)
                .toRow();
    }

    private OutputRow start(Row input, RowPlan plan) {
        return start(input, plan.fingerprint(), plan.row().occurrence());
    }

    private OutputRow start(Row input, String fingerprint, int occurrence) {
        return OutputRow.copying(outputSchema, inputSchema, input)
                .set(OutputSchema.MODEL, model)
                .set(OutputSchema.KV_MODE, kvMode)
                .set(OutputSchema.FINGERPRINT, fingerprint)
                .set(OutputSchema.ID_OCCURRENCE, occurrence)
                .set(OutputSchema.ENGINE, engine);
    }
}
