package kittyspark.checks.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.pipeline.executor.AdmissionGate;
import kittyspark.pipeline.executor.BatchDefaults;
import kittyspark.pipeline.executor.RowWork;
import kittyspark.pipeline.executor.TaskFeed;
import kittyspark.runtime.backend.cuda.CudaBackend;
import kittyspark.runtime.backend.cuda.CudaOptions;
import kittyspark.runtime.backend.cuda.CudaSettings;
import kittyspark.runtime.backend.cuda.Precision;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.engine.EngineStats;
import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.ModelShapes;
import kittyspark.runtime.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An executor without Spark: {@code --tasks} threads, each a "task" over its share of
 * {@code --rows} synthetic prompts of {@code --prompt} tokens, feed one engine through the
 * executor's own {@link AdmissionGate} and {@link TaskFeed} (capacity-driven, in input order,
 * bounded per task), and the run's throughput and engine utilisation are written as JSON next
 * to a reference for the same shape measured in the same process: on a GPU, KittyGpuBench's end
 * to end figure; on the CPU, the same rows submitted to the engine all at once. Loads no Spark
 * class (gpu-checks keeps Spark off its classpath).
 */
@Command(name = "executor-bench", mixinStandardHelpOptions = true,
        description = "Executor tasks feeding one engine without Spark, against the engine's reference figure.")
public final class ExecutorBench implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "cpu", description = "cpu (with --model) or cuda:N (synthetic --shape).")
    String device;
    @Option(names = "--model", description = "Hugging Face model directory (the CPU run).")
    Path model;
    @Option(names = "--shape", defaultValue = "llama3-8b", description = "Synthetic model shape on cuda (default: ${DEFAULT-VALUE}).")
    String shape;
    @Option(names = "--kv", defaultValue = "kitty", description = "KV mode (default: ${DEFAULT-VALUE}).")
    String kv;
    @Option(names = "--prompt", defaultValue = "7680", description = "Prompt tokens per row (default: ${DEFAULT-VALUE}).")
    int prompt;
    @Option(names = "--new", defaultValue = "512", description = "New tokens per row (default: ${DEFAULT-VALUE}).")
    int newTokens;
    @Option(names = "--tasks", defaultValue = "4", description = "Concurrent task threads (default: ${DEFAULT-VALUE}).")
    int tasks;
    @Option(names = "--rows", defaultValue = "0", description = "Rows in all (0: 1.5 x the engine's capacity).")
    int rows;
    @Option(names = "--max-batch", defaultValue = "0", description = "Engine max batch (0: BatchDefaults).")
    int maxBatch;
    @Option(names = "--prefill-chunk", defaultValue = "2048",
            description = "Prompt tokens per step (default: ${DEFAULT-VALUE}, the job's kitty.engine.prefill-chunk).")
    int prefillChunk;
    @Option(names = "--kv-budget-gib", defaultValue = "48", description = "cuda: KV budget (default: ${DEFAULT-VALUE}).")
    double kvBudgetGib;
    @Option(names = "--commit", defaultValue = "unknown")
    String commit;
    @Option(names = "--out", defaultValue = "executor-bench.json", description = "Results file.")
    Path out;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ExecutorBench()).execute(args));
    }

    /** What one run through the task feeds measured. */
    record Run(long rows, long generated, double seconds, EngineStats before, EngineStats after) {
        double tokensPerS() {
            return generated / seconds;
        }

        double busyFraction() {
            long busy = after.busyNanos() - before.busyNanos();
            return busy / (seconds * 1e9);
        }

        double fullBatchFraction() {
            long steps = after.steps() - before.steps();
            return steps == 0 ? Double.NaN : 1.0 - (double) (after.underfullSteps() - before.underfullSteps()) / steps;
        }
    }

    @Override
    public Integer call() throws Exception {
        KvSettings mode = KvSettings.parse(kv);
        int batch = BatchDefaults.of(maxBatch, device, mode);
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("commit", commit).put("device", device).put("kv", mode.describe()).put("prompt", prompt).put("new", newTokens)
                .put("tasks", tasks).put("max_batch", batch).put("prefill_chunk", prefillChunk);
        if (device.equals("cpu")) {
            if (model == null) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--model is required on the cpu");
            }
            EngineOptions o = new EngineOptions(model, "cpu", 0, batch, 0, prefillChunk, CudaOptions.DEFAULTS);
            try (GenerationEngine e = GenerationEngine.open(o)) {
                int n = rowsFor(e, mode);
                allAtOnce(e, mode, Math.min(n, tasks)); // warm-up: neither figure pays for the JIT
                Run run = feed(e, mode, n);
                Run ref = allAtOnce(e, mode, n);
                put(json, run, n, e.capacity(mode, prompt, newTokens));
                json.put("reference_tokens_per_s", ref.tokensPerS())
                        .put("reference_method", "the same rows submitted to the engine at once, no task feeds");
            }
        } else {
            ModelConfig c = ModelShapes.named(shape);
            long budget = (long) (kvBudgetGib * (1L << 30));
            int ordinal = Integer.parseInt(device.substring("cuda:".length()));
            // The backend KittyGpuBench measures its end to end on, so both figures come from one configuration.
            CudaSettings s = new CudaSettings(ordinal, batch, KittyGpuBench.DECODE_CONTEXT + batch, budget, 0.95, Precision.BF16, mode)
                    .withFp16Share(0).withReferenceTokens(prompt + newTokens)
                    .withKittyAttention(CudaOptions.DEFAULTS.kittyAttention());
            try (CudaBackend gpu = CudaBackend.synthetic(c, 42, s)) {
                Path tokDir = Files.createTempDirectory("kitty-synth-tok");
                Tokenizer tok = SyntheticTokenizer.write(tokDir.resolve("tokenizer.json"), c.vocabSize());
                EngineOptions o = new EngineOptions(tokDir, device, 0, batch, 0, prefillChunk, CudaOptions.DEFAULTS);
                try (GenerationEngine e = new GenerationEngine(new SharedBackend(gpu), tok, o, shape, Set.of(-1))) {
                    int n = rowsFor(e, mode);
                    allAtOnce(e, mode, 1); // warm-up: the first step's module loads and pool setup
                    Run run = feed(e, mode, n);
                    put(json, run, n, e.capacity(mode, prompt, newTokens));
                }
                KittyGpuBench.Options ko = new KittyGpuBench.Options(out.toAbsolutePath().getParent(), ordinal, List.of(kvBudgetGib),
                        0.95, 6, batch, List.of(kv), List.of(new KittyGpuBench.E2e(prompt, newTokens)), 4, List.of(
                        CudaOptions.DEFAULTS.kittyAttention()), commit, "unused.json");
                ObjectNode ref = KittyGpuBench.endToEnd(gpu, c, mode, new KittyGpuBench.E2e(prompt, newTokens), ko);
                json.put("reference_tokens_per_s", ref.path("tokens_per_s").asDouble())
                        .put("reference_method", "KittyGpuBench end to end, same backend and call: " + ref.path("method").asText());
                json.set("reference", ref);
            }
        }
        json.put("ratio_to_reference", json.path("tokens_per_s").asDouble() / json.path("reference_tokens_per_s").asDouble());
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
        System.out.println(json.toPrettyString());
        return 0;
    }

    private int rowsFor(GenerationEngine e, KvSettings mode) {
        return rows > 0 ? rows : (int) Math.ceil(1.5 * Math.max(1, e.capacity(mode, prompt, newTokens)));
    }

    private static void put(ObjectNode json, Run run, int rows, int capacity) {
        json.put("rows", rows).put("admissible_batch", capacity).put("seconds", run.seconds())
                .put("generated_tokens", run.generated()).put("tokens_per_s", run.tokensPerS())
                .put("engine_busy_fraction", run.busyFraction()).put("full_batch_fraction", run.fullBatchFraction())
                .put("engine_steps", run.after().steps() - run.before().steps());
        System.err.printf(Locale.ROOT, "executor bench: %d rows, %.0f tokens/s, busy %.1f%%, full batch %.1f%% of steps%n", rows,
                run.tokensPerS(), 100 * run.busyFraction(), 100 * run.fullBatchFraction());
    }

    private GenerationRequest request(int i, KvSettings mode, int vocab) {
        int[] p = new SplittableRandom(i).ints(prompt, 0, vocab).toArray();
        return new GenerationRequest("row-" + i, p, SamplingParams.greedy(newTokens), mode);
    }

    /** The rows dealt round-robin to {@code tasks} threads, each through a TaskFeed on one shared gate. */
    private Run feed(GenerationEngine e, KvSettings mode, int n) throws InterruptedException {
        AdmissionGate gate = new AdmissionGate(r -> e.capacity(r.kv(), r.prompt().length, r.params().maxNewTokens()));
        int target = gate.target(request(0, mode, e.config().vocabSize()));
        AtomicLong generated = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        EngineStats before = e.stats();
        long t0 = System.nanoTime();
        for (int t = 0; t < tasks; t++) {
            List<Integer> mine = new ArrayList<>();
            for (int i = t; i < n; i += tasks) {
                mine.add(i);
            }
            TaskFeed<Integer, GenerationResult> f = new TaskFeed<>(mine.iterator(), 2 * target, gate, i -> work(e, request(i, mode,
                    e.config().vocabSize())));
            Thread th = new Thread(() -> f.forEachRemaining(r -> generated.addAndGet(r.completionTokens())), "task-" + t);
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        return new Run(n, generated.get(), (System.nanoTime() - t0) / 1e9, before, e.stats());
    }

    private static RowWork<GenerationResult> work(GenerationEngine e, GenerationRequest r) {
        return RowWork.of(r, e::submit, result -> {
            GenerationResult g = result.join();
            if (g.error() != null) {
                throw new IllegalStateException("row " + r.id() + " failed: " + g.error());
            }
            return g;
        });
    }

    /** The reference on the CPU: every row handed to the engine at once. */
    private Run allAtOnce(GenerationEngine e, KvSettings mode, int n) {
        EngineStats before = e.stats();
        long t0 = System.nanoTime();
        List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fs.add(e.submit(request(i, mode, e.config().vocabSize())));
        }
        long generated = 0;
        for (CompletableFuture<GenerationResult> f : fs) {
            generated += f.join().completionTokens();
        }
        return new Run(n, generated, (System.nanoTime() - t0) / 1e9, before, e.stats());
    }
}
