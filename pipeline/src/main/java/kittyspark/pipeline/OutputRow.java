package kittyspark.pipeline;

import java.sql.Timestamp;
import java.util.List;

import kittyspark.runtime.engine.FinishReason;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** Builds one output row: the input row's own values followed by the generated columns of {@link OutputSchema}. */
final class OutputRow {
    private OutputRow() {
    }

    /** What is the same for every row of a task: the run, the model, the cache, the engine. */
    record Context(String runId, String model, KvSettings kv, EngineRef engine) {
    }

    /** A row the engine answered (its result may still be an error). */
    static Row generated(Row input, int inputWidth, RowPlan plan, GenerationResult r, String stopMatched,
                         GenerationService.FidelityScores f, Context ctx, long startedAtMillis) {
        boolean failed = r.finishReason() == FinishReason.ERROR;
        long spentNanos = r.queueNanos() + r.prefillNanos() + r.decodeNanos();
        Object[] v = values(input, inputWidth);
        int i = inputWidth;
        v[i + col(OutputSchema.COMPLETION)] = failed ? null : r.completion();
        v[i + col(OutputSchema.FINISH_REASON)] = r.finishReason().id();
        v[i + col(OutputSchema.STOP_MATCHED)] = failed ? null : stopMatched;
        v[i + col(OutputSchema.ERROR_CODE)] = failed ? ErrorCode.GENERATION_FAILED : null;
        v[i + col(OutputSchema.ERROR)] = failed ? (r.error() == null ? "generation failed" : r.error()) : null;
        v[i + col(OutputSchema.PROMPT_TOKENS)] = r.promptTokens() > 0 ? r.promptTokens() : null;
        v[i + col(OutputSchema.COMPLETION_TOKENS)] = failed ? null : r.completionTokens();
        v[i + col(OutputSchema.STARTED_AT)] = new Timestamp(startedAtMillis);
        v[i + col(OutputSchema.FINISHED_AT)] = new Timestamp(startedAtMillis + spentNanos / 1_000_000);
        if (!failed) {
            v[i + col(OutputSchema.QUEUE_MS)] = r.queueNanos() / 1e6;
            v[i + col(OutputSchema.PREFILL_MS)] = r.prefillNanos() / 1e6;
            v[i + col(OutputSchema.DECODE_MS)] = r.decodeNanos() / 1e6;
        }
        v[i + col(OutputSchema.MEAN_LOGPROB)] = failed || Double.isNaN(r.meanLogprob()) ? null : r.meanLogprob();
        if (f != null) {
            v[i + col(OutputSchema.KV_REF_MEAN_LOGPROB)] = f.refMeanLogprob();
            v[i + col(OutputSchema.KV_DELTA_NLL)] = f.deltaNll();
            v[i + col(OutputSchema.KV_TOP1)] = f.top1Agreement();
            v[i + col(OutputSchema.KV_KL)] = f.kl();
        }
        return finish(v, inputWidth, plan, ctx);
    }

    /** A row that never reached generation (or failed to start). */
    static Row failed(Row input, int inputWidth, RowPlan plan, Integer promptTokens, String code, String error, Context ctx,
                      long startedAtMillis) {
        Object[] v = values(input, inputWidth);
        int i = inputWidth;
        v[i + col(OutputSchema.FINISH_REASON)] = FinishReason.ERROR.id();
        v[i + col(OutputSchema.ERROR_CODE)] = code;
        v[i + col(OutputSchema.ERROR)] = error;
        v[i + col(OutputSchema.PROMPT_TOKENS)] = promptTokens;
        v[i + col(OutputSchema.STARTED_AT)] = new Timestamp(startedAtMillis);
        v[i + col(OutputSchema.FINISHED_AT)] = new Timestamp(System.currentTimeMillis());
        return finish(v, inputWidth, plan, ctx);
    }

    private static Object[] values(Row input, int inputWidth) {
        // The input's own columns come first; the planning columns after them are dropped.
        Object[] values = new Object[inputWidth + OutputSchema.ADDED.size()];
        for (int i = 0; i < inputWidth; i++) {
            values[i] = input.get(i);
        }
        return values;
    }

    private static Row finish(Object[] v, int i, RowPlan plan, Context ctx) {
        SamplingParams p = plan.params();
        v[i + col(OutputSchema.SAMPLING)] = p == null ? null : RowFactory.create(p.maxNewTokens(), p.temperature(), p.topK(),
                p.topP(), p.seed(), scala.jdk.javaapi.CollectionConverters.asScala(List.copyOf(p.stop())).toSeq());
        v[i + col(OutputSchema.MODEL)] = ctx.model();
        v[i + col(OutputSchema.KV_MODE)] = ctx.kv().mode().id();
        v[i + col(OutputSchema.KV_PARAMS)] = !ctx.kv().quantized() ? null : RowFactory.create(ctx.kv().pageSize(),
                ctx.kv().boostFraction(), ctx.kv().sink(), ctx.kv().valueWindow());
        v[i + col(OutputSchema.RUN_ID)] = ctx.runId();
        v[i + col(OutputSchema.FINGERPRINT)] = plan.fingerprint();
        v[i + col(OutputSchema.ID_OCCURRENCE)] = plan.row().occurrence();
        EngineRef e = ctx.engine();
        v[i + col(OutputSchema.ENGINE)] = e == null ? null : RowFactory.create(e.executorId(), e.gpu(), e.device(), e.instance());
        return RowFactory.create(v);
    }

    private static int col(String name) {
        return OutputSchema.ADDED.fieldIndex(name);
    }
}
