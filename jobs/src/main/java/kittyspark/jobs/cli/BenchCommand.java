package kittyspark.jobs.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.backend.cpu.CpuKernels;
import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Generation throughput of the engine at several batch sizes, side by side in one run: B
 * random prompts of a fixed length submitted at once, each sampling up to N tokens. Tokens
 * are counted as generated (a sequence that samples EOS stops early). {@code --kv} may list
 * several cache modes ({@code fp16,kitty}), measured in turn. With several CPU kernel
 * sets ({@code --cpu-kernels scalar,vector}) one engine per set is opened and their runs
 * alternate at each batch size, so a busy machine slows them alike and the ratio stays fair.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure generation throughput (prefill and decode tokens/s) at several batch sizes; prints and writes JSON.",
                "--kv may list several modes (--kv fp16,kitty); --cpu-kernels scalar,vector compares the CPU kernel sets side by side."})
public final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Mixin
    ModelOptions model;

    @Option(names = "--batch", split = ",", defaultValue = "1,16", description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--prompt-tokens", defaultValue = "128", description = "Prompt length (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "64", description = "Tokens generated per sequence (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed warm-up runs per batch size (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--repeat", defaultValue = "1",
            description = "Timed runs per batch size and kernel set; the one with the median wall time is kept (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--cpu-kernels", split = ",", paramLabel = "SET",
            description = "CPU kernel sets to compare (auto, vector, scalar), e.g. scalar,vector. Default: the one "
                    + CpuKernels.PROPERTY + " names (auto).")
    List<String> cpuKernels;

    @Option(names = "--output", paramLabel = "FILE", description = "Write the figures as JSON here.")
    Path output;

    @Override
    public Integer call() throws Exception {
        if (repeat < 1 || warmup < 0) {
            throw new IllegalArgumentException("--repeat must be >= 1 and --warmup >= 0");
        }
        int maxBatch = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
        List<String> sets = cpuKernels == null || cpuKernels.isEmpty() || !model.device.equals("cpu")
                ? java.util.Collections.singletonList(null) : cpuKernels;
        List<KvSettings> modes = new ArrayList<>();
        for (String m : model.kv.split(",")) {
            modes.add(model.withOverrides(KvSettings.parse(m.trim())));
        }
        ObjectNode out = JSON.createObjectNode();
        ArrayNode rows = out.putArray("runs");
        ArrayNode ratios = JSON.createArrayNode();
        List<GenerationEngine> engines = new ArrayList<>();
        List<String> names = new ArrayList<>();
        try {
            for (String set : sets) {
                GenerationEngine e = openWith(set, maxBatch);
                engines.add(e);
                names.add(e.backend() instanceof CpuBackend cpu ? cpu.kernels().name() : e.backend().device());
            }
            GenerationEngine first = engines.get(0);
            out.put("model", first.modelName());
            out.put("device", first.backend().device());
            out.put("kv", String.join(",", modes.stream().map(KvSettings::describe).toList()));
            out.put("prompt_tokens", promptTokens);
            out.put("new_tokens", newTokens);
            out.put("cpu_threads", Runtime.getRuntime().availableProcessors());
            out.put("repeat", repeat);
            System.out.printf(Locale.ROOT, "%s on %s, prompt %d, %d new tokens, median of %d%n", first.modelName(),
                    first.backend().device(), promptTokens, newTokens, repeat);
            System.out.printf(Locale.ROOT, "%-34s %-12s %6s %10s %12s %14s %14s%n", "kv", "kernels", "batch", "wall s",
                    "gen tok/s", "decode tok/s", "prefill tok/s");
            for (KvSettings kv : modes) {
                for (int b : batches) {
                    List<ObjectNode> atThisPoint = measure(engines, kv, b);
                    for (int i = 0; i < engines.size(); i++) {
                        ObjectNode r = atThisPoint.get(i);
                        r.put("kv", kv.describe());
                        if (sets.get(i) != null) {
                            r.put("kernels", names.get(i));
                        }
                        rows.add(r);
                        System.out.printf(Locale.ROOT, "%-34s %-12s %6d %10.2f %12.1f %14.1f %14.1f%n", kv.describe(),
                                names.get(i), b, r.get("wall_s").asDouble(), r.get("gen_tok_per_s").asDouble(),
                                r.get("decode_tok_per_s").asDouble(), r.get("prefill_tok_per_s").asDouble());
                    }
                    if (engines.size() > 1) {
                        ObjectNode ratio = ratios.addObject();
                        ratio.put("kv", kv.describe());
                        ratio.put("batch", b);
                        for (String key : List.of("gen_tok_per_s", "decode_tok_per_s", "prefill_tok_per_s")) {
                            double base = atThisPoint.get(0).get(key).asDouble();
                            double last = atThisPoint.get(atThisPoint.size() - 1).get(key).asDouble();
                            ratio.put(key, last / base);
                        }
                        System.out.printf(Locale.ROOT, "%-34s %-12s %6d %10s %11.2fx %13.2fx %13.2fx%n", kv.describe(),
                                names.get(names.size() - 1) + "/" + names.get(0), b, "",
                                ratio.get("gen_tok_per_s").asDouble(), ratio.get("decode_tok_per_s").asDouble(),
                                ratio.get("prefill_tok_per_s").asDouble());
                    }
                }
            }
            if (engines.size() > 1) {
                out.put("ratio_of", names.get(names.size() - 1) + " / " + names.get(0));
                out.set("ratios", ratios);
            }
        } finally {
            for (GenerationEngine e : engines) {
                e.close();
            }
        }
        if (output != null) {
            JSON.writeValue(output.toFile(), out);
            System.out.println("-> " + output);
        }
        return 0;
    }

    /** Warm-up, then {@code repeat} timed runs per engine, taking turns; per engine the median run. */
    private List<ObjectNode> measure(List<GenerationEngine> engines, KvSettings kv, int batch) throws Exception {
        for (GenerationEngine e : engines) {
            for (int w = 0; w < warmup; w++) {
                run(e, kv, batch, 1000 + w);
            }
        }
        List<List<ObjectNode>> timed = new ArrayList<>();
        engines.forEach(e -> timed.add(new ArrayList<>()));
        for (int k = 0; k < repeat; k++) {
            for (int i = 0; i < engines.size(); i++) {
                timed.get(i).add(run(engines.get(i), kv, batch, 0));
            }
        }
        List<ObjectNode> medians = new ArrayList<>();
        for (List<ObjectNode> t : timed) {
            medians.add(median(t));
        }
        return medians;
    }

    /** An engine whose CPU backend runs kernel set {@code set} (null: as configured). */
    private GenerationEngine openWith(String set, int maxBatch) {
        if (set == null) {
            return GenerationEngine.open(model.engineOptions(maxBatch));
        }
        String before = System.getProperty(CpuKernels.PROPERTY);
        System.setProperty(CpuKernels.PROPERTY, set);
        try {
            return GenerationEngine.open(model.engineOptions(maxBatch));
        } finally {
            if (before == null) {
                System.clearProperty(CpuKernels.PROPERTY);
            } else {
                System.setProperty(CpuKernels.PROPERTY, before);
            }
        }
    }

    private static ObjectNode median(List<ObjectNode> runs) {
        List<ObjectNode> sorted = new ArrayList<>(runs);
        sorted.sort(java.util.Comparator.comparingDouble(r -> r.get("wall_s").asDouble()));
        return sorted.get(sorted.size() / 2);
    }

    private ObjectNode run(GenerationEngine engine, KvSettings kv, int batch, long seed) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        int vocab = engine.config().vocabSize();
        List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < batch; i++) {
            int[] prompt = new int[promptTokens];
            for (int t = 0; t < promptTokens; t++) {
                prompt[t] = 1 + rnd.nextInt(vocab - 1); // id 0 is often EOS
            }
            SamplingParams p = new SamplingParams(newTokens, 1.0, 0, 1.0, seed * 1000 + i, List.of());
            fs.add(engine.submit(new GenerationRequest("b" + i, prompt, p, kv)));
        }
        long generated = 0;
        long prefillEnd = 0;
        for (CompletableFuture<GenerationResult> f : fs) {
            GenerationResult r = f.get();
            if (r.error() != null) {
                throw new IllegalStateException(r.error());
            }
            generated += r.completionTokens();
            prefillEnd = Math.max(prefillEnd, r.queueNanos() + r.prefillNanos());
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        double prefill = prefillEnd / 1e9;
        ObjectNode r = JSON.createObjectNode();
        r.put("batch", batch);
        r.put("wall_s", wall);
        r.put("generated_tokens", generated);
        r.put("gen_tok_per_s", generated / wall);
        r.put("decode_tok_per_s", (generated - batch) / Math.max(1e-9, wall - prefill));
        r.put("prefill_tok_per_s", (double) batch * promptTokens / Math.max(1e-9, prefill));
        return r;
    }
}
