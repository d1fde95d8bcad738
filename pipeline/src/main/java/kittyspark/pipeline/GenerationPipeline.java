package kittyspark.pipeline;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import kittyspark.pipeline.executor.EngineFactory;
import kittyspark.pipeline.executor.EngineReport;
import kittyspark.pipeline.executor.PartitionGenerator;
import kittyspark.pipeline.executor.RuntimeGenerationService;
import kittyspark.pipeline.output.OutputLock;
import kittyspark.pipeline.output.OutputSchema;
import kittyspark.pipeline.output.OutputStore;
import kittyspark.pipeline.output.WriteStep;
import kittyspark.pipeline.plan.InputFiles;
import kittyspark.pipeline.plan.LengthAwarePartitioner;
import kittyspark.pipeline.plan.ModelIdentity;
import kittyspark.pipeline.plan.PlanColumns;
import kittyspark.pipeline.plan.RunPlanner;
import kittyspark.pipeline.plan.RunPreview;
import kittyspark.runtime.checkpoint.KvGeometry;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvFootprint;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One generation run: plan (what is left to do), generate in commits of
 * {@code run.commitRows} rows, compact superseded rows, summarise. Also the dry run
 * ({@link #preview}) and the DataFrame entry point ({@link #transform}).
 */
public final class GenerationPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationPipeline.class);
    /** The sequence length at which the summary also states the cache's size ratio to fp16. */
    static final int LONG_SEQUENCE_TOKENS = 4096;

    private final SparkSession spark;
    private final PipelineConfig cfg;
    private final EngineFactory factory;
    private final WriteStep.Listener steps;
    private final Consumer<String> progress;

    /** @param steps told of each step of the output's write protocol (tests stop a job there) */
    public GenerationPipeline(SparkSession spark, PipelineConfig cfg, EngineFactory factory, WriteStep.Listener steps) {
        this(spark, cfg, factory, steps, LOG::info);
    }

    private GenerationPipeline(SparkSession spark, PipelineConfig cfg, EngineFactory factory, WriteStep.Listener steps,
                               Consumer<String> progress) {
        this.spark = spark;
        this.cfg = cfg;
        this.factory = factory;
        this.steps = steps;
        this.progress = progress;
    }

    /** The same pipeline, printing the driver's progress lines (every {@code run.progressInterval}) to {@code sink}. */
    public GenerationPipeline withProgress(Consumer<String> sink) {
        return new GenerationPipeline(spark, cfg, factory, steps, sink);
    }

    private static String newRunId() {
        return "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS"));
    }

    public GenerationPipeline(SparkSession spark, PipelineConfig cfg) {
        this(spark, cfg, RuntimeGenerationService.factory(), WriteStep.Listener.NONE);
    }

    /**
     * Runs the job. Everything that can be checked without Spark work is checked first, so a
     * broken model, a bad input file, an output in use or an unwritable output fails at once.
     */
    public JobSummary run(String input, String output) {
        long t0 = System.nanoTime();
        String runId = newRunId();
        ModelIdentity model = ModelIdentity.of(Path.of(cfg.modelDir()), cfg.weightsDigest());
        ModelConfig modelConfig = ModelConfig.load(Path.of(cfg.modelDir()));
        InputFiles files = InputFiles.check(spark, input);
        OutputStore store = new OutputStore(spark, output, cfg.columns().id(), steps);
        OutputLock lock;
        try {
            lock = store.lock(cfg.run().lockStaleAfter());
        } catch (OutputLock.Unwritable e) {
            return readOnly(runId, t0, files, store, model, modelConfig, e);
        }
        try (lock) {
            return generate(runId, t0, files, store, model, modelConfig);
        } finally {
            spark.sparkContext().clearJobGroup();
        }
    }

    private JobSummary generate(String runId, long t0, InputFiles files, OutputStore store, ModelIdentity model,
                                ModelConfig modelConfig) {
        SparkContext sc = spark.sparkContext();
        sc.setJobGroup(runId, "kitty: plan " + files, false);
        sc.setJobDescription("kitty: read prompts, number duplicates, fingerprint, skip rows already in the output");
        store.recover();
        try (ShufflePartitions sized = ShufflePartitions.fitTo(spark, files.read())) {
            return planAndGenerate(runId, t0, files, store, model, modelConfig, sc);
        }
    }

    private JobSummary planAndGenerate(String runId, long t0, InputFiles files, OutputStore store, ModelIdentity model,
                                ModelConfig modelConfig, SparkContext sc) {
        RunPlanner.Plan plan = plan(files, store, model);
        PlanColumns cols = plan.columns();
        Dataset<Row> todo = plan.todo();
        LOG.info("kitty {}: {} input rows, {} to generate, {} already in the output", runId, plan.inputRows(),
                plan.todoRows(), plan.skippedRows());

        LongAccumulator enginesCreated = sc.longAccumulator("kitty engines created");
        CollectionAccumulator<EngineReport> reports = sc.collectionAccumulator("kitty engine reports");
        ProgressCounters counters = ProgressCounters.register(sc);
        PartitionGenerator generator = new PartitionGenerator(cfg, runId, model.fingerprintPart(), model.name(),
                plan.inputSchema(), cols, factory, enginesCreated, reports, counters);

        List<Integer> commits = new ArrayList<>();
        long tGen = System.nanoTime();
        int chunks = (int) Math.max(0, (plan.todoRows() + cfg.run().commitRows() - 1) / cfg.run().commitRows());
        DriverProgress driverProgress = chunks == 0 ? null
                : DriverProgress.start(sc, counters, plan.todoRows(), cfg.run().progressInterval(), progress);
        for (int chunk = 0; chunk < chunks; chunk++) {
            Dataset<Row> part = chunks == 1 ? todo : todo.where(functions.pmod(functions.xxhash64(
                    ColumnNames.col(cols.fingerprint()), ColumnNames.col(cols.occurrence())), functions.lit(chunks))
                    .equalTo(chunk));
            long chunkRows = Math.min(plan.todoRows(), cfg.run().commitRows());
            int partitions = partitions(chunkRows);
            sc.setJobDescription(String.format("kitty: balance prompts by length, commit %d of %d", chunk + 1, chunks));
            Dataset<Row> spread = LengthAwarePartitioner.spread(spark, part, cols.length(), cols.fingerprint(), partitions,
                    chunkRows);
            Dataset<Row> generated = spread.mapPartitions(generator, Encoders.row(OutputSchema.of(plan.inputSchema())));
            sc.setJobDescription(String.format("kitty: generate and write commit %d of %d (%s)", chunk + 1, chunks, model.name()));
            commits.add(store.commit(generated));
        }
        if (driverProgress != null) {
            driverProgress.close();
        }
        double generateSeconds = (System.nanoTime() - tGen) / 1e9;
        todo.unpersist();

        // Always, not only after this run's commits: a run killed before or during its
        // compaction leaves superseded rows that only a later run can drop.
        sc.setJobDescription("kitty: compact superseded rows");
        long compacted = store.compact();
        sc.setJobDescription("kitty: summarise");
        JobSummary summary = summarise(runId, store, commits, plan, model, modelConfig, cfg.kv(), compacted,
                (System.nanoTime() - t0) / 1e9, generateSeconds, enginesCreated, reports);
        if (summary.didWork()) {
            store.writeText("_kitty_summary.json", summary.toJson()); // a rerun with nothing to do keeps the last real one
        }
        store.writeText("_kitty_runs/" + runId + ".json", summary.toJson());
        return summary;
    }

    /**
     * An output that cannot be written is fine when there is nothing to write (a finished output
     * on a read-only mount): the run plans, finds nothing to do and says so. Otherwise it fails
     * before generating anything.
     */
    private JobSummary readOnly(String runId, long t0, InputFiles files, OutputStore store, ModelIdentity model,
                                ModelConfig modelConfig, OutputLock.Unwritable why) {
        String cannot = "output " + store.path() + " cannot be written (" + why.getMessage() + ")";
        if (store.isEmpty()) {
            throw new InputException(cannot + "; give a writable --output", why);
        }
        if (store.needsRecovery()) {
            throw new InputException(cannot + " and holds the leftovers of an interrupted run; make it writable", why);
        }
        spark.sparkContext().setJobGroup(runId, "kitty: plan " + files + " (read-only output)", false);
        RunPlanner.Plan plan = null;
        try {
            plan = plan(files, store, model);
            if (plan.todoRows() > 0) {
                throw new InputException(cannot + ": " + plan.todoRows() + " rows are left to generate and nothing "
                        + "was written; make it writable", why);
            }
            if (!store.staleCommits().isEmpty()) {
                throw new InputException(cannot + " and holds superseded rows to compact; make it writable", why);
            }
            LOG.warn("kitty {}: {}; every row is done, so there is nothing to write (no summary file either)", runId, cannot);
            return summarise(runId, store, List.of(), plan, model, modelConfig, cfg.kv(), 0,
                    (System.nanoTime() - t0) / 1e9, 0, spark.sparkContext().longAccumulator(),
                    spark.sparkContext().collectionAccumulator());
        } finally {
            if (plan != null) {
                plan.todo().unpersist();
            }
            spark.sparkContext().clearJobGroup();
        }
    }

    /** Plans the run; a Spark failure while reading an input file is reported naming the file. */
    private RunPlanner.Plan plan(InputFiles files, OutputStore store, ModelIdentity model) {
        try {
            return RunPlanner.plan(files.read(), cfg, model, store);
        } catch (InputException e) {
            throw e;
        } catch (Exception e) {
            throw files.explain(e);
        }
    }

    /** What {@link #run} would do, computed the same way, without generating or writing anything. */
    public RunPreview preview(String input, String output) {
        SparkContext sc = spark.sparkContext();
        ModelIdentity model = ModelIdentity.of(Path.of(cfg.modelDir()), cfg.weightsDigest());
        InputFiles files = InputFiles.check(spark, input);
        OutputStore store = new OutputStore(spark, output, cfg.columns().id(), steps);
        sc.setJobGroup(newRunId(), "kitty: dry run over " + files, false);
        try (ShufflePartitions sized = ShufflePartitions.fitTo(spark, files.read())) {
            return RunPreview.of(spark, files.read(), cfg, model, store);
        } catch (InputException e) {
            throw e;
        } catch (RuntimeException e) {
            throw files.explain(e);
        } finally {
            sc.clearJobGroup();
        }
    }

    /**
     * The DataFrame entry point: {@code input} with the generated columns of {@link OutputSchema}
     * appended, one output row per input row (bad rows are error rows), generated by the same
     * shared per-executor engines as {@link #run}. Lazy like any Dataset: generation runs when
     * the result is evaluated, and again at every evaluation unless it is cached or written.
     * Nothing is resumed or skipped: that is what {@link #run}'s output directory is for.
     */
    public Dataset<Row> transform(Dataset<Row> input) {
        String runId = "df-" + newRunId().substring("run-".length());
        SparkContext sc = spark.sparkContext();
        ModelIdentity model = ModelIdentity.of(Path.of(cfg.modelDir()), cfg.weightsDigest());
        StructType inputSchema = input.schema();
        RunPlanner.Prepared planned = RunPlanner.prepare(input, cfg, model);
        PlanColumns cols = planned.columns();
        PartitionGenerator generator = new PartitionGenerator(cfg, runId, model.fingerprintPart(), model.name(),
                inputSchema, cols, factory, sc.longAccumulator("kitty engines created"),
                sc.collectionAccumulator("kitty engine reports"), ProgressCounters.register(sc));
        int partitions = cfg.run().partitions() > 0 ? cfg.run().partitions() : 2 * sc.defaultParallelism();
        return planned.rows().repartition(partitions, ColumnNames.col(cols.fingerprint()))
                .sortWithinPartitions(ColumnNames.col(cols.length()).desc())
                .mapPartitions(generator, Encoders.row(OutputSchema.of(inputSchema)));
    }

    private int partitions(long rows) {
        int p = cfg.run().partitions() > 0 ? cfg.run().partitions() : 2 * spark.sparkContext().defaultParallelism();
        return (int) Math.max(1, Math.min(p, rows));
    }

    private JobSummary summarise(String runId, OutputStore store, List<Integer> commits, RunPlanner.Plan plan,
                                 ModelIdentity model, ModelConfig modelConfig, KvSettings kv, long compacted,
                                 double wall, double generateSeconds, LongAccumulator enginesCreated,
                                 CollectionAccumulator<EngineReport> reports) {
        long ok = 0, err = 0, promptTokens = 0, completionTokens = 0, fidelityRows = 0;
        Double meanLp = null, meanRef = null, meanDelta = null, meanTop1 = null, meanKl = null;
        Map<String, Long> reasons = new LinkedHashMap<>();
        List<JobSummary.ErrorKind> errorKinds = new ArrayList<>();
        Dataset<Row> all = store.all();
        if (all != null && !commits.isEmpty()) {
            Dataset<Row> mine = all.where(functions.col(OutputSchema.COMMIT).isin(commits.toArray()));
            Row a = mine.agg(
                    functions.count(functions.lit(1)),
                    functions.count(functions.col(OutputSchema.ERROR)),
                    functions.sum(functions.when(functions.col(OutputSchema.ERROR).isNull(), functions.col(OutputSchema.PROMPT_TOKENS))),
                    functions.sum(functions.col(OutputSchema.COMPLETION_TOKENS)),
                    functions.avg(functions.col(OutputSchema.MEAN_LOGPROB)),
                    functions.count(functions.col(OutputSchema.KV_DELTA_NLL)),
                    functions.avg(functions.col(OutputSchema.KV_REF_MEAN_LOGPROB)),
                    functions.avg(functions.col(OutputSchema.KV_DELTA_NLL)),
                    functions.avg(functions.col(OutputSchema.KV_TOP1)),
                    functions.avg(functions.col(OutputSchema.KV_KL))).first();
            err = a.getLong(1);
            ok = a.getLong(0) - err;
            promptTokens = a.isNullAt(2) ? 0 : a.getLong(2);
            completionTokens = a.isNullAt(3) ? 0 : a.getLong(3);
            meanLp = a.isNullAt(4) ? null : a.getDouble(4);
            fidelityRows = a.getLong(5);
            meanRef = a.isNullAt(6) ? null : a.getDouble(6);
            meanDelta = a.isNullAt(7) ? null : a.getDouble(7);
            meanTop1 = a.isNullAt(8) ? null : a.getDouble(8);
            meanKl = a.isNullAt(9) ? null : a.getDouble(9);
            for (Row r : mine.groupBy(OutputSchema.FINISH_REASON).count()
                    .orderBy(functions.col("count").desc(), functions.col(OutputSchema.FINISH_REASON)).collectAsList()) {
                reasons.put(r.getString(0), r.getLong(1));
            }
            for (Row r : mine.where(functions.col(OutputSchema.ERROR).isNotNull()).groupBy(OutputSchema.ERROR_CODE)
                    .agg(functions.count(functions.lit(1)).as("n"), functions.min(OutputSchema.ERROR))
                    .orderBy(functions.col("n").desc(), functions.col(OutputSchema.ERROR_CODE)).collectAsList()) {
                errorKinds.add(new JobSummary.ErrorKind(r.getString(0), r.getLong(1), r.getString(2)));
            }
        }

        // Latest report per engine: its counters minus the baseline when this run first used it.
        Map<String, EngineReport> latest = new HashMap<>();
        Set<String> createdHere = new HashSet<>();
        for (EngineReport r : reports.value()) {
            latest.merge(r.engine().instance(), r, (x, y) -> x.reportedAtNanos() >= y.reportedAtNanos() ? x : y);
            if (r.createdInRun()) {
                createdHere.add(r.engine().instance()); // only the task that opened it says so
            }
        }
        List<JobSummary.EngineLine> lines = new ArrayList<>();
        long steps = 0, rowsTotal = 0, kvPeak = 0, heapPeak = 0;
        int maxConcurrent = 0;
        long allSteps = 0, underfull = 0, busy = 0, idle = 0, pool = 0;
        int admissible = 0;
        for (EngineReport r : latest.values()) {
            EngineReport.Counters b = r.baseline(), c = r.current();
            allSteps += c.steps() - b.steps();
            underfull += c.underfullSteps() - b.underfullSteps();
            busy += c.busyNanos() - b.busyNanos();
            idle += c.idleNanos() - b.idleNanos();
            pool += c.kvPoolBytes();
            admissible = Math.max(admissible, c.admissibleBatch());
            long s = c.decodeSteps() - b.decodeSteps(), rt = c.decodeRowsTotal() - b.decodeRowsTotal();
            steps += s;
            rowsTotal += rt;
            maxConcurrent = Math.max(maxConcurrent, c.maxConcurrent());
            kvPeak += c.kvBytesPeak();
            heapPeak = Math.max(heapPeak, r.peakHeapBytes());
            lines.add(new JobSummary.EngineLine(r.engine().executorId(), r.engine().gpu(), r.engine().device(),
                    r.engine().instance(), createdHere.contains(r.engine().instance()), c.requestsDone() - b.requestsDone(),
                    c.generatedTokens() - b.generatedTokens(), s == 0 ? 0 : (double) rt / s, c.maxConcurrent()));
        }
        lines.sort((x, y) -> x.executorId().compareTo(y.executorId()));
        // Sequences decoded together per engine step, averaged over engines (weighted by their steps).
        double meanConcurrent = steps == 0 ? 0 : (double) rowsTotal / steps;
        int longTokens = Math.min(LONG_SEQUENCE_TOKENS, modelConfig.maxPositionEmbeddings());
        Integer typicalLength = null;
        Double bytesPerToken = null, ratio = null, ratioLong = null;
        if (ok > 0) {
            typicalLength = (int) Math.max(1, Math.min(longTokens, (promptTokens + completionTokens) / ok));
            bytesPerToken = kvBytesPerToken(kv, modelConfig.kvGeometry(), typicalLength);
            ratio = ratioToFp16(kv, modelConfig.kvGeometry(), typicalLength, bytesPerToken);
            ratioLong = ratioToFp16(kv, modelConfig.kvGeometry(), longTokens, kvBytesPerToken(kv, modelConfig.kvGeometry(), longTokens));
        }
        return new JobSummary(runId, store.path(), model.name(), kv.describe(), plan.inputRows(), plan.skippedRows(),
                ok, err, reasons, errorKinds, commits, compacted, promptTokens, completionTokens, wall, generateSeconds,
                lines.size(), (int) enginesCreated.value().longValue(), lines, meanConcurrent, maxConcurrent,
                typicalLength, bytesPerToken, ratio, longTokens, ratioLong, kvPeak, heapPeak,
                meanLp, fidelityRows, meanRef, meanDelta, meanTop1, meanKl,
                new JobSummary.EngineUse(allSteps, underfull, busy / 1e9, idle / 1e9, admissible, pool));
    }

    private static Double ratioToFp16(KvSettings kv, KvGeometry g, int length, double bytesPerToken) {
        double fp16 = kvBytesPerToken(KvSettings.of(KvMode.FP16), g, length);
        return bytesPerToken <= 0 ? null : fp16 / bytesPerToken;
    }

    /** KV bytes per token, all layers, of a sequence of {@code length} tokens in the job's cache format. */
    static double kvBytesPerToken(KvSettings kv, KvGeometry g, int length) {
        return (double) KvFootprint.bytesFor(kv, g, length) / length;
    }
}
