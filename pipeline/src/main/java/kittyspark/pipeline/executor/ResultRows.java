package kittyspark.pipeline.executor;

import java.sql.Timestamp;
import java.util.List;

import kittyspark.pipeline.output.EngineRef;
import kittyspark.pipeline.output.ErrorCode;
import kittyspark.pipeline.output.OutputRow;
import kittyspark.pipeline.output.OutputSchema;
import kittyspark.pipeline.plan.RowPlan;
import kittyspark.runtime.engine.FinishReason;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/** Turns a row's plan and what the engine made of it into the row's output row. */
final class ResultRows {
    private final StructType inputSchema;
    private final StructType outputSchema;
    private final String runId;
    private final String model;
    private final KvSettings kv;
    private final Row kvParams;
    private final Row engine;

    ResultRows(StructType inputSchema, String runId, String model, KvSettings kv, EngineRef engine) {
        this.inputSchema = inputSchema;
        this.outputSchema = OutputSchema.of(inputSchema);
        this.runId = runId;
        this.model = model;
        this.kv = kv;
        this.kvParams = !kv.quantized() ? null : OutputRow.of(OutputSchema.KV_PARAMS_TYPE)
                .set("page_size", kv.pageSize()).set("boost_fraction", kv.boostFraction()).set("sink", kv.sink())
                .set("value_window", kv.valueWindow()).toRow();
        this.engine = engine == null ? null : engine.toRow();
    }

    /**
     * @param stopMatched     the stop string that ended it, or null
     * @param startedAtMillis wall clock when the row was handed to the engine
     */
    Row generated(Row input, RowPlan plan, GenerationResult r, String stopMatched, GenerationService.FidelityScores f,
                  long startedAtMillis) {
        boolean failed = r.finishReason() == FinishReason.ERROR;
        long spentMillis = (r.queueNanos() + r.prefillNanos() + r.decodeNanos()) / 1_000_000;
        OutputRow out = start(input, plan, startedAtMillis)
                .set(OutputSchema.COMPLETION, failed ? null : r.completion())
                .set(OutputSchema.PROMPT_TOKENS, r.promptTokens() > 0 ? r.promptTokens() : null)
                .set(OutputSchema.COMPLETION_TOKENS, failed ? null : r.completionTokens())
                .set(OutputSchema.FINISH_REASON, r.finishReason().id())
                .set(OutputSchema.STOP_MATCHED, failed ? null : stopMatched)
                .set(OutputSchema.ERROR_CODE, failed ? ErrorCode.GENERATION_FAILED : null)
                .set(OutputSchema.ERROR, failed ? (r.error() == null ? "generation failed" : r.error()) : null)
                .set(OutputSchema.FINISHED_AT, new Timestamp(startedAtMillis + spentMillis))
                .set(OutputSchema.MEAN_LOGPROB, failed || Double.isNaN(r.meanLogprob()) ? null : r.meanLogprob());
        if (!failed) {
            out.set(OutputSchema.QUEUE_MS, r.queueNanos() / 1e6)
                    .set(OutputSchema.PREFILL_MS, r.prefillNanos() / 1e6)
                    .set(OutputSchema.DECODE_MS, r.decodeNanos() / 1e6);
        }
        if (f != null) {
            out.set(OutputSchema.KV_REF_MEAN_LOGPROB, f.refMeanLogprob())
                    .set(OutputSchema.KV_DELTA_NLL, f.deltaNll())
                    .set(OutputSchema.KV_TOP1, f.top1Agreement())
                    .set(OutputSchema.KV_KL, f.kl());
        }
        return out.toRow();
    }

    /** An error row: the row could not be generated, for the reason given ({@link ErrorCode} and message). */
    Row failed(Row input, RowPlan plan, Integer promptTokens, String code, String error, long startedAtMillis) {
        return failed(input, plan.fingerprint(), plan.row().occurrence(), plan.params(), promptTokens, code, error,
                startedAtMillis);
    }

    /** An error row for a row that has no plan: fingerprint and occurrence come from its planning columns. */
    Row failed(Row input, String fingerprint, int occurrence, SamplingParams params, Integer promptTokens, String code,
               String error, long startedAtMillis) {
        return start(input, fingerprint, occurrence, params, startedAtMillis)
                .set(OutputSchema.PROMPT_TOKENS, promptTokens)
                .set(OutputSchema.FINISH_REASON, FinishReason.ERROR.id())
                .set(OutputSchema.ERROR_CODE, code)
                .set(OutputSchema.ERROR, error)
                .set(OutputSchema.FINISHED_AT, new Timestamp(System.currentTimeMillis()))
                .toRow();
    }

    private OutputRow start(Row input, RowPlan plan, long startedAtMillis) {
        return start(input, plan.fingerprint(), plan.row().occurrence(), plan.params(), startedAtMillis);
    }

    private OutputRow start(Row input, String fingerprint, int occurrence, SamplingParams params, long startedAtMillis) {
        return OutputRow.copying(outputSchema, inputSchema, input)
                .set(OutputSchema.SAMPLING, sampling(params))
                .set(OutputSchema.MODEL, model)
                .set(OutputSchema.KV_MODE, kv.mode().id())
                .set(OutputSchema.KV_PARAMS, kvParams)
                .set(OutputSchema.RUN_ID, runId)
                .set(OutputSchema.STARTED_AT, new Timestamp(startedAtMillis))
                .set(OutputSchema.FINGERPRINT, fingerprint)
                .set(OutputSchema.ID_OCCURRENCE, occurrence)
                .set(OutputSchema.ENGINE, engine);
    }

    /** The resolved parameters; null when the row's parameters could not be resolved into valid ones. */
    private static Row sampling(SamplingParams p) {
        if (p == null) {
            return null;
        }
        return OutputRow.of(OutputSchema.SAMPLING_TYPE)
                .set("max_new_tokens", p.maxNewTokens()).set("temperature", p.temperature()).set("top_k", p.topK())
                .set("top_p", p.topP()).set("seed", p.seed())
                .set("stop", scala.jdk.javaapi.CollectionConverters.asScala(List.copyOf(p.stop())).toSeq())
                .toRow();
    }
}
