package kittyspark.checks.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.cuda.CudaBackend;
import kittyspark.runtime.backend.cuda.CudaOptions;
import kittyspark.runtime.backend.cuda.CudaSettings;
import kittyspark.runtime.backend.cuda.Precision;
import kittyspark.runtime.backend.cuda.kitty.KittyMemoryPlan;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.ModelShapes;
import kittyspark.runtime.tokenizer.Tokenizer;

/**
 * The benchmark at equal memory: a synthetic Llama-3-8B (random bf16 weights) with the
 * same KV budget in every mode (fp16, kivi, kitty). Per mode: the max concurrent sequences at
 * prompt 2K, 8K and 32K + 512 new tokens, computed from the pool the budget buys (a quantized
 * pool re-sized for each shape: slots and pages as {@link KittyMemoryPlan} splits them); and
 * the decode-step throughput at context 8K with the pool's full batch (and at batch 1), the
 * sequences' pages and tails filled with valid random content instead of being prefilled
 * (attention costs the same), device sampling included, host clock.
 *
 * <pre>KITTY_MAIN=kittyspark.runtime.backend.cuda.KittyGpuBench kitty OUT_DIR [budgetGiB] [steps] [maxBatch] [e2eNewTokens] [e2eModes]</pre>
 * or {@code bench-gpu --kv fp16,kivi,kitty}.
 */
public final class KittyGpuBench {
    static final int NEW_TOKENS = 512;
    static final int[] PROMPTS = {2048, 8192, 32768};
    static final int DECODE_CONTEXT = 8192;

    private KittyGpuBench() {
    }

    /**
     * @param modes    KV modes to measure, each with the same budget
     * @param e2eNew   new tokens of the end-to-end run (0: none)
     * @param e2eModes the modes that also run end to end
     */
    public record Options(Path out, int device, long budgetBytes, int steps, int maxBatch, List<String> modes, int e2eNew,
                          List<String> e2eModes) {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "out/kitty-bench");
        long budget = (long) (Double.parseDouble(args.length > 1 ? args[1] : "48") * (1L << 30));
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int maxBatch = args.length > 3 ? Integer.parseInt(args[3]) : 512;
        int e2eNew = args.length > 4 ? Integer.parseInt(args[4]) : 0; // 0: no end-to-end run
        List<String> e2eModes = List.of((args.length > 5 ? args[5] : "fp16,kitty").split(","));
        run(new Options(out, 0, budget, steps, maxBatch, List.of("fp16", "kivi", "kitty"), e2eNew, e2eModes));
    }

    public static ObjectNode run(Options o) throws Exception {
        Path out = o.out();
        long budget = o.budgetBytes();
        int steps = o.steps();
        int maxBatch = o.maxBatch();
        int e2eNew = o.e2eNew();
        List<String> e2eModes = o.e2eModes();
        ModelConfig shape = ModelShapes.named("llama3-8b");
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("shape", "llama3-8b").put("kv_budget_bytes", budget).put("new_tokens", NEW_TOKENS)
                .put("decode_context", DECODE_CONTEXT).put("decode_steps_timed", steps).put("max_batch", maxBatch);
        ArrayNode modes = json.putArray("modes");
        for (String mode : o.modes()) {
            KvSettings kv = KvSettings.parse(mode);
            // the whole budget to this mode's pool, sized for the decode shape
            CudaSettings s = new CudaSettings(o.device(), maxBatch, DECODE_CONTEXT + maxBatch, budget, 0.9, Precision.BF16, kv)
                    .withFp16Share(0).withReferenceTokens(DECODE_CONTEXT + NEW_TOKENS);
            ObjectNode m = modes.addObject().put("kv", kv.describe());
            try (CudaBackend gpu = CudaBackend.synthetic(shape, 42, s)) {
                json.put("gpu", gpu.context().name());
                ObjectNode cap = m.putObject("max_concurrent");
                if (kv.quantized()) {
                    KittyMemoryPlan plan = gpu.kittyMemory(kv);
                    long poolBytes = gpu.kittyPoolBytes(kv);
                    m.put("pool_bytes", poolBytes).put("key_page_bytes", plan.keyPageBytes())
                            .put("value_page_bytes", plan.valuePageBytes()).put("tail_slot_bytes", plan.slotBytes());
                    for (int p : PROMPTS) {
                        long t = p + NEW_TOKENS;
                        cap.put(String.valueOf(p), plan.maxSequences(plan.size(poolBytes, t, Integer.MAX_VALUE), t));
                    }
                } else {
                    m.put("pool_bytes", gpu.pagePool().totalPages() * gpu.pagePool().bytesPerPage());
                    for (int p : PROMPTS) {
                        cap.put(String.valueOf(p), gpu.pagePool().maxSequencesOf(p + NEW_TOKENS));
                    }
                }
                long fits = gpu.maxSequences(kv, DECODE_CONTEXT + NEW_TOKENS);
                int full = (int) Math.min(maxBatch, fits);
                m.put("decode_full_batch", full).put("pool_holds_at_decode_shape", fits);
                if (kv.quantized()) {
                    gpu.fillKittyRandom(kv, 7);
                } else {
                    gpu.fillKvRandom(7);
                }
                ArrayNode dec = m.putArray("decode");
                for (int b : new int[] {1, full}) {
                    double ms = decodeStep(gpu, kv, b, steps);
                    dec.addObject().put("batch", b).put("step_ms", ms).put("tokens_per_s", b / (ms / 1e3));
                    System.err.printf(Locale.ROOT, "%s decode b=%d ctx=%d: %.2f ms/step, %.0f tokens/s%n", mode, b, DECODE_CONTEXT, ms,
                            b / (ms / 1e3));
                }
                if (e2eNew > 0 && e2eModes.contains(mode)) {
                    m.set("generate", endToEnd(gpu, shape, kv, full, e2eNew, o.device()));
                }
            }
            System.err.println(mode + ": " + m);
            write(out, json); // after every mode: a later one running out of time loses only itself
        }
        write(out, json);
        return json;
    }

    private static void write(Path out, ObjectNode json) throws java.io.IOException {
        StringBuilder md = new StringBuilder();
        table(json, md);
        Files.createDirectories(out);
        Files.writeString(out.resolve("kitty-gpu-bench.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(json));
        Files.writeString(out.resolve("kitty-gpu-bench.md"), md.toString());
        System.out.println(md);
    }

    /**
     * End-to-end through the engine: {@code b} prompts of (decode context - new tokens) tokens,
     * so that prompt + new tokens stay within Llama-3-8B's 8192 positions (run 3 asked for a full
     * 8192-token prompt and the engine refused it), all submitted at once, {@code newTokens}
     * greedy tokens each; one prompt chunk per step next to the decode rows, device sampling.
     */
    private static ObjectNode endToEnd(CudaBackend gpu, ModelConfig shape, KvSettings kv, int b, int newTokens, int device)
            throws Exception {
        Path tokDir = Files.createTempDirectory("kitty-synth-tok");
        Tokenizer tok = SyntheticTokenizer.write(tokDir.resolve("tokenizer.json"), shape.vocabSize());
        int promptTokens = DECODE_CONTEXT - newTokens;
        EngineOptions eo = new EngineOptions(tokDir, "cuda:" + device, 0, b, 0, DECODE_CONTEXT, CudaOptions.DEFAULTS);
        SplittableRandom rnd = new SplittableRandom(b);
        long generated = 0;
        long t0 = System.nanoTime();
        try (GenerationEngine e = new GenerationEngine(new SharedBackend(gpu), tok, eo, "llama3-8b", java.util.Set.of(-1))) {
            List<java.util.concurrent.CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                int[] prompt = rnd.ints(promptTokens, 0, shape.vocabSize()).toArray();
                fs.add(e.submit(new GenerationRequest("e2e-" + i, prompt, SamplingParams.greedy(newTokens), kv)));
            }
            for (var f : fs) {
                GenerationResult r = f.get();
                if (r.error() != null) {
                    throw new IllegalStateException("generation failed: " + r.error());
                }
                generated += r.tokens().length;
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "%s generate b=%d prompt %d + %d: %.1f s, %.1f tokens/s%n", kv.describe(), b, promptTokens,
                newTokens, secs, generated / secs);
        return JsonNodeFactory.instance.objectNode().put("prompts", b).put("prompt_tokens", promptTokens)
                .put("new_tokens", newTokens).put("seconds", secs).put("generated", generated).put("tokens_per_s", generated / secs);
    }

    /** Median ms of a decode step of {@code b} sequences at the decode context (2 warm-up steps). */
    private static double decodeStep(CudaBackend gpu, KvSettings kv, int b, int steps) {
        int vocab = gpu.config().vocabSize();
        List<SequenceState> seqs = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            seqs.add(gpu.syntheticSequence(kv, DECODE_CONTEXT - steps - 3, DECODE_CONTEXT + NEW_TOKENS));
        }
        SplittableRandom rnd = new SplittableRandom(b);
        double[] ms = new double[steps];
        try {
            for (int step = -2; step < steps; step++) {
                List<ForwardInput> in = new ArrayList<>(b);
                List<SampleSpec> specs = new ArrayList<>(b);
                for (SequenceState q : seqs) {
                    in.add(new ForwardInput(q, new int[] {rnd.nextInt(vocab)}, false));
                    specs.add(new SampleSpec(SamplingParams.greedy(1), 0, null));
                }
                long t0 = System.nanoTime();
                gpu.forwardAndSample(in, specs);
                if (step >= 0) {
                    ms[step] = (System.nanoTime() - t0) / 1e6;
                }
            }
        } finally {
            seqs.forEach(SequenceState::release);
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static void table(ObjectNode json, StringBuilder md) {
        md.append(String.format(Locale.ROOT, "Synthetic llama3-8b on %s, KV budget %.1f GiB in every mode%n%n",
                json.path("gpu").asText(), json.get("kv_budget_bytes").asLong() / (double) (1L << 30)));
        md.append("| mode | seqs @2K+512 | @8K+512 | @32K+512 | decode b=1 ms | full batch | step ms | tokens/s | e2e tokens/s |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (var m : json.get("modes")) {
            var cap = m.get("max_concurrent");
            var d = m.get("decode");
            if (d == null || d.size() < 2) {
                continue;
            }
            md.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %.2f | %d | %.2f | %.0f | %s |%n", m.get("kv").asText(),
                    cap.get("2048").asLong(), cap.get("8192").asLong(), cap.get("32768").asLong(), d.get(0).get("step_ms").asDouble(),
                    d.get(1).get("batch").asInt(), d.get(1).get("step_ms").asDouble(), d.get(1).get("tokens_per_s").asDouble(),
                    m.has("generate") ? String.format(Locale.ROOT, "%.0f", m.get("generate").get("tokens_per_s").asDouble()) : "-"));
        }
    }
}
