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
import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.sampling.SamplingParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Generation throughput of the engine at several batch sizes, side by side in one run: B
 * random prompts of a fixed length submitted at once, each sampling up to N tokens. Tokens
 * are counted as generated (a sequence that samples EOS stops early).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure generation throughput (prefill and decode tokens/s) at several batch sizes; prints and writes JSON.")
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

    @Option(names = "--output", paramLabel = "FILE", description = "Write the figures as JSON here.")
    Path output;

    @Override
    public Integer call() throws Exception {
        int maxBatch = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
        ObjectNode out = JSON.createObjectNode();
        ArrayNode rows = out.putArray("runs");
        try (GenerationEngine engine = GenerationEngine.open(model.engineOptions(maxBatch))) {
            out.put("model", engine.modelName());
            out.put("device", engine.backend().device());
            out.put("kv", model.kvSettings().describe());
            out.put("prompt_tokens", promptTokens);
            out.put("new_tokens", newTokens);
            out.put("cpu_threads", Runtime.getRuntime().availableProcessors());
            System.out.printf(Locale.ROOT, "%s on %s, kv %s, prompt %d, %d new tokens%n", engine.modelName(),
                    engine.backend().device(), model.kvSettings().describe(), promptTokens, newTokens);
            System.out.printf(Locale.ROOT, "%6s %12s %14s %14s %12s%n", "batch", "wall s", "gen tok/s", "decode tok/s", "prefill tok/s");
            for (int b : batches) {
                for (int w = 0; w < warmup; w++) {
                    run(engine, b, 1000 + w);
                }
                ObjectNode r = run(engine, b, 0);
                rows.add(r);
                System.out.printf(Locale.ROOT, "%6d %12.2f %14.1f %14.1f %12.1f%n", b, r.get("wall_s").asDouble(),
                        r.get("gen_tok_per_s").asDouble(), r.get("decode_tok_per_s").asDouble(),
                        r.get("prefill_tok_per_s").asDouble());
            }
        }
        if (output != null) {
            JSON.writeValue(output.toFile(), out);
            System.out.println("-> " + output);
        }
        return 0;
    }

    private ObjectNode run(GenerationEngine engine, int batch, long seed) throws Exception {
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
            fs.add(engine.submit(new GenerationRequest("b" + i, prompt, p, model.kvSettings())));
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
