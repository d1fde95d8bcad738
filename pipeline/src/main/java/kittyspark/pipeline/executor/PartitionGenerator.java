package kittyspark.pipeline.executor;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.ProgressCounters;
import kittyspark.pipeline.output.EngineRef;
import kittyspark.pipeline.output.ErrorCode;
import kittyspark.pipeline.plan.ChatTemplate;
import kittyspark.pipeline.plan.PlanColumns;
import kittyspark.pipeline.plan.PromptEncoder;
import kittyspark.pipeline.plan.PromptRow;
import kittyspark.pipeline.plan.RowPlan;
import kittyspark.pipeline.plan.StableHash;
import kittyspark.runtime.engine.FinishReason;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor side of a run: every row of a partition goes to this executor's shared engine
 * through the engine's {@link AdmissionGate} (all tasks together keep it at its capacity), and
 * output rows come back in input order ({@link TaskFeed}). A bad row becomes an error row; nothing a row does fails the task.
 *
 * <p>Input rows are the input's own columns followed by the planning columns
 * ({@link PlanColumns}), which are dropped from the output.
 */
public final class PartitionGenerator implements MapPartitionsFunction<Row, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionGenerator.class);

    private final PipelineConfig cfg;
    private final String runId;
    private final String modelIdentity;
    private final String modelName;
    private final StructType inputSchema;
    private final PlanColumns planColumns;
    private final EngineFactory factory;
    private final LongAccumulator enginesCreated;
    private final CollectionAccumulator<EngineReport> reports;
    private final ProgressCounters progress;

    public PartitionGenerator(PipelineConfig cfg, String runId, String modelIdentity, String modelName, StructType inputSchema,
                              PlanColumns planColumns, EngineFactory factory, LongAccumulator enginesCreated,
                              CollectionAccumulator<EngineReport> reports, ProgressCounters progress) {
        this.cfg = cfg;
        this.runId = runId;
        this.modelIdentity = modelIdentity;
        this.modelName = modelName;
        this.inputSchema = inputSchema;
        this.planColumns = planColumns;
        this.factory = factory;
        this.enginesCreated = enginesCreated;
        this.reports = reports;
        this.progress = progress;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext task = TaskContext.get();
        String gpu = gpuAddress(task);
        String executorId = org.apache.spark.SparkEnv.get() == null ? "driver" : org.apache.spark.SparkEnv.get().executorId();
        DeviceChoice choice = DeviceChoice.resolve(cfg.engine().device(), gpu);
        ExecutorEngines.Acquired acquired = ExecutorEngines.acquire(cfg, choice, executorId, factory);
        if (acquired.created()) {
            enginesCreated.add(1);
        }
        ExecutorEngines.Shared shared = acquired.shared();
        EngineReport.Counters baseline = shared.baseline(runId);
        GenerationService engine = shared.service();
        KvSettings kv = cfg.kv();
        PromptEncoder encoder = new PromptEncoder(engine, ChatTemplate.load(Path.of(cfg.modelDir())), cfg.truncateLeft(),
                cfg.maxPromptTokens());
        EngineRef ref = shared.ref();
        ResultRows results = new ResultRows(inputSchema, runId, modelName, kv, ref);

        Iterator<Row> out = new TaskFeed<>(rows, shared.maxHeldPerTask, shared.gate,
                row -> start(row, engine, encoder, kv, results, shared));
        if (task != null) {
            task.addTaskCompletionListener(ctx -> {
                shared.sampleHeap();
                reports.add(new EngineReport(ref, acquired.created(), System.nanoTime(), baseline,
                        EngineReport.Counters.of(engine.stats()), shared.peakHeapBytes));
            });
        }
        return out;
    }

    private static String gpuAddress(TaskContext task) {
        if (task == null) {
            return null;
        }
        scala.Option<ResourceInformation> gpu = task.resources().get("gpu");
        if (gpu.isEmpty() || gpu.get().addresses().length == 0) {
            return null;
        }
        return gpu.get().addresses()[0];
    }

    /**
     * Makes one row ready for the engine. Nothing a row holds can fail the task: whatever goes
     * wrong becomes the row's error.
     */
    private RowWork<Row> start(Row row, GenerationService engine, PromptEncoder encoder, KvSettings kv, ResultRows results,
                               ExecutorEngines.Shared shared) {
        long startedAt = System.currentTimeMillis();
        try {
            return generate(row, engine, encoder, kv, results, shared, startedAt);
        } catch (RuntimeException e) {
            LOG.warn("kitty: a row failed unexpectedly; it becomes an error row", e);
            return done(shared, results.failed(row, row.getString(row.fieldIndex(planColumns.fingerprint())),
                    row.getInt(row.fieldIndex(planColumns.occurrence())), null, null, ErrorCode.INTERNAL_ERROR,
                    "internal error: " + e, startedAt));
        }
    }

    private RowWork<Row> generate(Row row, GenerationService engine, PromptEncoder encoder, KvSettings kv,
                                  ResultRows results, ExecutorEngines.Shared shared, long startedAt) {
        int occurrence = row.getInt(row.fieldIndex(planColumns.occurrence()));
        RowPlan plan = RowPlan.of(PromptRow.from(row, cfg.columns(), occurrence), cfg, modelIdentity);
        if (!plan.ok()) {
            return done(shared, results.failed(row, plan, null, plan.errorCode(), plan.error(), startedAt));
        }
        PromptEncoder.Encoded encoded;
        try {
            encoded = encoder.encode(plan);
        } catch (RuntimeException e) {
            return done(shared, results.failed(row, plan, null, ErrorCode.TOKENIZATION_FAILED,
                    "tokenization failed: " + e.getMessage(), startedAt));
        }
        if (encoded.error() != null) {
            Integer n = encoded.tokens() == null ? null : encoded.tokens().length;
            return done(shared, results.failed(row, plan, n, encoded.code(), encoded.error(), startedAt));
        }
        int[] prompt = encoded.tokens();
        // Re-scoring against a full-precision cache only says something about a quantized cache.
        boolean checkFidelity = kv.quantized() && StableHash.inFidelitySample(plan.row().id(), cfg.fidelityFraction());
        GenerationRequest request = new GenerationRequest(plan.row().key(), prompt, plan.params(), kv, checkFidelity);
        return new RowWork<>() {
            private String rejected;
            private CompletableFuture<GenerationService.FidelityScores> fidelity;

            @Override
            public GenerationRequest request() {
                return request;
            }

            @Override
            public CompletableFuture<GenerationResult> submit() {
                try {
                    CompletableFuture<GenerationResult> f = engine.submit(request);
                    progress.prompt(prompt.length);
                    if (checkFidelity) {
                        // Asked as soon as the completion is known (not when the row's output is
                        // due), so the engine re-scores the completions finishing together as one batch.
                        fidelity = f.thenCompose(r -> r.error() == null && r.tokens().length > 0
                                ? engine.fidelity(prompt, r, kv) : CompletableFuture.completedFuture(null));
                    }
                    return f;
                } catch (RuntimeException e) {
                    rejected = "rejected by the engine: " + e.getMessage();
                    return CompletableFuture.completedFuture(null);
                }
            }

            @Override
            public Row output(CompletableFuture<GenerationResult> future) {
                if (rejected != null) {
                    return finished(shared, results.failed(row, plan, prompt.length, ErrorCode.ENGINE_REJECTED, rejected, startedAt));
                }
                GenerationResult r;
                try {
                    r = future.join();
                } catch (RuntimeException e) {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    return finished(shared, results.failed(row, plan, prompt.length, ErrorCode.GENERATION_FAILED,
                            "generation failed: " + cause, startedAt));
                }
                GenerationService.FidelityScores f = null;
                if (fidelity != null) {
                    try {
                        f = fidelity.join();
                    } catch (RuntimeException e) {
                        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        LOG.warn("kitty: fidelity check of row {} failed; its kv_* columns stay null", plan.row().key(), cause);
                    }
                }
                String stop = r.finishReason() == FinishReason.STOP
                        ? StopMatch.of(engine.decode(r.tokens()), r.completion(), plan.params().stop()) : null;
                shared.rowsDone.incrementAndGet();
                progress.row(r.finishReason() == FinishReason.ERROR ? null : r.completionTokens());
                return results.generated(row, plan, r, stop, f, startedAt);
            }
        };
    }

    /** A row whose output is known without the engine. */
    private RowWork<Row> done(ExecutorEngines.Shared shared, Row out) {
        return RowWork.done(() -> finished(shared, out));
    }

    private Row finished(ExecutorEngines.Shared shared, Row row) {
        shared.rowsDone.incrementAndGet();
        progress.row(null);
        return row;
    }
}
