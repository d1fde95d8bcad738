package kittyspark.checks.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import com.fasterxml.jackson.databind.JsonNode;
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
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.gemm.EventTimer;
import kittyspark.runtime.backend.cuda.kitty.KittyAttentionProbe;
import kittyspark.runtime.backend.cuda.kitty.KittyAttentionVariant;
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
 * The benchmark at equal memory: a synthetic Llama-3-8B (random bf16 weights) with the same KV
 * budget in every mode (fp16, kivi, kitty), at each budget asked for (GiB, or the whole free
 * memory after the weights), in one call. Per budget and mode:
 * <ul>
 * <li>the most concurrent sequences at prompt 2K, 8K and 32K + 512 new tokens, from the pool the
 *     budget buys (a quantized pool re-sized for each shape, as {@link KittyMemoryPlan} splits it);</li>
 * <li>a decode step at context 8K with the pool's full batch (and at batch 1) against its
 *     roofline (weights, the KV bytes the step reads, activations, over the copy bandwidth and
 *     GEMM peak measured in the same run), the sequences' pages and tails filled with valid
 *     random content instead of prefilled (attention costs the same), device sampling;</li>
 * <li>quantized modes: the decode attention kernel alone at that full batch, each variant asked
 *     for, rotating through the layers: packed page bytes over time against the copy bandwidth
 *     ({@code attention_fraction_of_copy}), and the variants' outputs compared;</li>
 * <li>end to end for each prompt + new tokens shape, with as many sequences as the pool holds.
 *     A full run would take minutes per mode, so it is composed from measured parts and marked
 *     {@code extrapolated}: the prefill of a prompt through the engine (a few prompts timed,
 *     times the sequences), plus the new tokens' decode steps at that batch, integrated from
 *     steps timed at the start, middle and end context.</li>
 * </ul>
 * Writes {@code resultsFile} (JSON) and kitty-gpu-bench.md into {@code out}; run as
 * {@code bench-gpu --kv fp16,kivi,kitty} (see {@link BenchGpuCommand}).
 */
public final class KittyGpuBench {
    static final int NEW_TOKENS = 512;
    static final int[] PROMPTS = {2048, 8192, 32768};
    static final int DECODE_CONTEXT = 8192;
    static final String SHAPE = "llama3-8b";

    private KittyGpuBench() {
    }

    /** An end-to-end shape: prompt tokens + new tokens, as "1024+7168". */
    public record E2e(int prompt, int newTokens) {
        public static E2e parse(String s) {
            String[] p = s.trim().split("\\+");
            if (p.length != 2) {
                throw new IllegalArgumentException("an end-to-end shape is PROMPT+NEW, got '" + s + "'");
            }
            return new E2e(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
        }

        public String key() {
            return prompt + "+" + newTokens;
        }
    }

    /**
     * @param budgetsGib        KV budgets, each for every mode; 0 = the whole free memory after the weights
     * @param wholeFraction     share of the free memory after weights and workspace that "whole" gives the KV cache
     * @param steps             timed decode steps per point (after 2 warm-ups)
     * @param maxBatch          most sequences in one step
     * @param e2e               end-to-end shapes (none: skipped)
     * @param prefillPrompts    prompts timed through the engine per shape for the prefill cost
     * @param attention         the Kitty attention variants timed alone (the first is also the engine's)
     * @param commit            the commit measured (recorded in the results)
     * @param resultsFile       name of the JSON written into {@code out}
     */
    public record Options(Path out, int device, List<Double> budgetsGib, double wholeFraction, int steps, int maxBatch,
                          List<String> modes, List<E2e> e2e, int prefillPrompts, List<KittyAttentionVariant> attention,
                          String commit, String resultsFile) {
    }

    public static ObjectNode run(Options o) throws Exception {
        ModelConfig shape = ModelShapes.named(SHAPE);
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("commit", o.commit()).put("shape", SHAPE).put("new_tokens_capacity", NEW_TOKENS).put("decode_context", DECODE_CONTEXT)
                .put("decode_steps_timed", o.steps()).put("max_batch", o.maxBatch());
        double copyBw;
        double gemmFlops;
        try (CudaContext ctx = new CudaContext(o.device())) {
            json.put("gpu", ctx.name());
            copyBw = GpuBench.copyBandwidth(ctx);
            gemmFlops = GpuBench.gemmPeak(ctx, new Kernels(ctx.stream()));
        }
        json.put("copy_gbs", copyBw / 1e9).put("gemm_tflops", gemmFlops / 1e12);
        System.err.printf(Locale.ROOT, "ceilings: copy %.0f GB/s, our GEMM %.0f TFLOP/s%n", copyBw / 1e9, gemmFlops / 1e12);
        Roofline roof = new Roofline(shape, copyBw, gemmFlops);
        ArrayNode runs = json.putArray("runs");
        for (double gib : o.budgetsGib()) {
            ObjectNode run = runs.addObject();
            run.put("kv_budget", gib > 0 ? String.format(Locale.ROOT, "%.0f GiB", gib) : "whole free memory");
            ObjectNode modes = run.putObject("modes");
            ArrayNode e2e = run.putArray("e2e");
            for (String mode : o.modes()) {
                KvSettings kv = KvSettings.parse(mode);
                ObjectNode m = modes.putObject(kv.mode().name().toLowerCase(Locale.ROOT));
                try {
                    measureMode(o, shape, kv, gib, roof, copyBw, run, m, e2e);
                } catch (RuntimeException | Error e) { // a mode that fails still leaves the others' figures
                    e.printStackTrace();
                    m.put("error", String.valueOf(e));
                }
                ratios(run);
                write(o, json); // after every mode: a later one running out of time loses only itself
            }
        }
        write(o, json);
        return json;
    }

    private static void measureMode(Options o, ModelConfig shape, KvSettings kv, double gib, Roofline roof, double copyBw,
                                    ObjectNode run, ObjectNode m, ArrayNode e2e) throws Exception {
        long budget = (long) (gib * (1L << 30));
        CudaSettings s = new CudaSettings(o.device(), o.maxBatch(), DECODE_CONTEXT + o.maxBatch(), budget, o.wholeFraction(),
                Precision.BF16, kv).withFp16Share(0).withReferenceTokens(DECODE_CONTEXT + NEW_TOKENS)
                .withKittyAttention(o.attention().get(0));
        long t0 = System.nanoTime();
        try (CudaBackend gpu = CudaBackend.synthetic(shape, 42, s)) {
            m.put("kv", kv.describe());
            long kvBytes = kv.quantized() ? gpu.budget().quantizedBytes() : gpu.budget().fp16Bytes();
            m.put("kv_bytes", kvBytes);
            run.put("kv_budget_gib", Math.max(run.path("kv_budget_gib").asDouble(0), kvBytes / (double) (1L << 30)));
            ObjectNode cap = m.putObject("max_sequences");
            if (kv.quantized()) {
                KittyMemoryPlan plan = gpu.kittyMemory(kv);
                long poolBytes = gpu.kittyPoolBytes(kv);
                m.put("pool_bytes", poolBytes).put("key_page_bytes", plan.keyPageBytes())
                        .put("value_page_bytes", plan.valuePageBytes()).put("tail_slot_bytes", plan.slotBytes());
                for (int p : PROMPTS) {
                    long t = p + NEW_TOKENS;
                    cap.put(p + "+" + NEW_TOKENS, plan.maxSequences(plan.size(poolBytes, t, Integer.MAX_VALUE), t));
                }
                gpu.fillKittyRandom(kv, 7);
            } else {
                m.put("pool_bytes", gpu.pagePool().totalPages() * gpu.pagePool().bytesPerPage());
                for (int p : PROMPTS) {
                    cap.put(p + "+" + NEW_TOKENS, gpu.pagePool().maxSequencesOf(p + NEW_TOKENS));
                }
                gpu.fillKvRandom(7);
            }
            int full = (int) Math.min(o.maxBatch(), gpu.maxSequences(kv, DECODE_CONTEXT + NEW_TOKENS));
            int context = DECODE_CONTEXT - o.steps() - 3;
            double kvBytesPerStep = kvBytesPerStep(shape, kv, full, context);
            if (kv.quantized()) {
                ObjectNode att = m.putObject("attention");
                kvBytesPerStep = attentionAlone(gpu, kv, full, context, o.attention(), copyBw, att) * shape.numLayers();
                m.put("attention_fraction_of_copy", att.path("variants").path(0).path("fraction_of_copy").asDouble());
            }
            double ms1 = decodeStep(gpu, kv, 1, context, DECODE_CONTEXT + NEW_TOKENS, o.steps());
            double ms = decodeStep(gpu, kv, full, context, DECODE_CONTEXT + NEW_TOKENS, o.steps());
            double bpe = kvBytesPerStep / ((double) full * context * shape.numLayers() * 2 * shape.numKvHeads() * shape.headDim());
            Roofline.Cost floor = roof.decodeStep(full, context, bpe);
            m.putObject("decode_batch1").put("batch", 1).put("step_ms", ms1);
            m.putObject("decode_full_batch").put("batch", full).put("context", context).put("step_ms", ms)
                    .put("tokens_per_s", full / (ms / 1e3)).put("roofline_ms", floor.seconds() * 1e3)
                    .put("kv_bytes_per_step", kvBytesPerStep).put("kv_bytes_per_element", bpe);
            System.err.printf(Locale.ROOT, "%s decode b=%d ctx=%d: %.2f ms/step (roofline %.2f), %.0f tokens/s%n", kv.describe(), full,
                    context, ms, floor.seconds() * 1e3, full / (ms / 1e3));
            for (E2e shapeE2e : o.e2e()) {
                e2e.add(endToEnd(gpu, shape, kv, shapeE2e, o));
            }
        }
        m.put("seconds", (System.nanoTime() - t0) / 1e9);
        System.err.println(kv.describe() + ": " + m);
    }

    /** KV bytes an fp16 decode step reads (keys and values of every cached token, every layer); quantized modes measure theirs. */
    private static double kvBytesPerStep(ModelConfig c, KvSettings kv, int batch, int context) {
        return (double) batch * context * c.numLayers() * 2.0 * c.numKvHeads() * c.headDim() * 2;
    }

    /**
     * The decode attention alone over {@code batch} sequences at {@code context}: each variant's
     * time per layer (rotating through the layers, so no layer's pages stay in L2), with and
     * without the combine, its packed bytes over time against the copy bandwidth; and the
     * largest difference between the variants' outputs. Returns the bytes one layer reads.
     */
    private static long attentionAlone(CudaBackend gpu, KvSettings kv, int batch, int context, List<KittyAttentionVariant> variants,
                                       double copyBw, ObjectNode att) {
        List<SequenceState> seqs = synthetic(gpu, kv, batch, context, DECODE_CONTEXT + NEW_TOKENS);
        try {
            KittyAttentionProbe probe = gpu.kittyAttentionProbe(seqs, 11);
            KittyAttentionVariant engine = probe.variant();
            att.put("batch", batch).put("context", context).put("packed_bytes_per_layer", probe.packedBytes())
                    .put("fp16_bytes_per_layer", probe.fp16Bytes());
            ArrayNode rows = att.putArray("variants");
            Map<KittyAttentionVariant, float[]> outputs = new LinkedHashMap<>();
            try (EventTimer timer = new EventTimer(gpu.kernels(), gpu.context().stream())) {
                for (KittyAttentionVariant v : variants) {
                    probe.select(v);
                    int layers = probe.layers();
                    double ms = timer.millisPerCall(i -> probe.launch(i % layers, false), 7, 40, 4 * layers);
                    double msCombined = timer.millisPerCall(i -> probe.launch(i % layers, true), 7, 40, 4 * layers);
                    double packedBw = probe.packedBytes() / (ms / 1e3);
                    rows.addObject().put("variant", v.configName()).put("ms_per_layer", ms).put("ms_per_layer_with_combine", msCombined)
                            .put("packed_gbs", packedBw / 1e9).put("fraction_of_copy", packedBw / copyBw)
                            .put("fraction_of_copy_all_bytes", (probe.packedBytes() + probe.fp16Bytes()) / (ms / 1e3) / copyBw)
                            .put("splits", probe.splits()[0]).put("tiles_per_split", probe.splits()[1]);
                    outputs.put(v, probe.output(0));
                    System.err.printf(Locale.ROOT, "%s attention[%s] b=%d ctx=%d: %.1f us/layer (%.1f with combine), packed %.0f GB/s ="
                                    + " %.1f%% of copy%n", kv.describe(), v.configName(), batch, context, ms * 1e3, msCombined * 1e3,
                            packedBw / 1e9, 100 * packedBw / copyBw);
                }
            }
            probe.select(engine);
            if (outputs.size() > 1) {
                List<float[]> outs = new ArrayList<>(outputs.values());
                att.put("variants_max_rel_diff", maxRelDiff(outs.get(0), outs.get(1)))
                        .put("variants_compared", outputs.keySet().stream().map(KittyAttentionVariant::configName).limit(2).toList()
                                .toString());
            }
            return probe.packedBytes() + probe.fp16Bytes();
        } finally {
            seqs.forEach(SequenceState::release);
        }
    }

    /** max |a - b| / max |b|, or infinity if either holds a non-finite value. */
    static double maxRelDiff(float[] a, float[] b) {
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i]) || !Float.isFinite(b[i])) {
                return Double.POSITIVE_INFINITY;
            }
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return scale > 0 ? diff / scale : diff;
    }

    private static List<SequenceState> synthetic(CudaBackend gpu, KvSettings kv, int b, int length, long worstCase) {
        List<SequenceState> seqs = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            seqs.add(gpu.syntheticSequence(kv, length, worstCase));
        }
        return seqs;
    }

    /** Median ms of a decode step of {@code b} sequences that start at {@code length} tokens (2 warm-up steps). */
    private static double decodeStep(CudaBackend gpu, KvSettings kv, int b, int length, long worstCase, int steps) {
        int vocab = gpu.config().vocabSize();
        List<SequenceState> seqs = synthetic(gpu, kv, b, length, worstCase);
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

    /**
     * End to end at {@code e.prompt() + e.newTokens()} with as many sequences as the pool holds,
     * composed from measured parts (a full run takes minutes per mode): the prefill of a prompt
     * through the engine ({@code prefillPrompts} prompts, one new token each, timed together),
     * times the sequences; plus {@code newTokens} decode steps at that batch, the trapezoid of
     * steps timed at the start, middle and end context.
     */
    static ObjectNode endToEnd(CudaBackend gpu, ModelConfig shape, KvSettings kv, E2e e, Options o) throws Exception {
        int total = e.prompt() + e.newTokens();
        if (total > shape.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("end-to-end shape " + e.key() + " exceeds the model's " + shape.maxPositionEmbeddings()
                    + " positions");
        }
        int b = (int) Math.min(o.maxBatch(), gpu.maxSequences(kv, total));
        int k = Math.min(o.prefillPrompts(), b);
        double prefillSeconds = prefill(gpu, shape, kv, k, e.prompt(), o.device());
        double perPrompt = prefillSeconds / k;
        int last = total - o.steps() - 3;
        int[] contexts = {Math.min(e.prompt(), last), Math.min(e.prompt() + e.newTokens() / 2, last), last};
        double[] stepMs = new double[contexts.length];
        ObjectNode steps = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < contexts.length; i++) {
            stepMs[i] = decodeStep(gpu, kv, b, contexts[i], total, o.steps());
            steps.put(String.valueOf(contexts[i]), stepMs[i]);
        }
        double meanStepMs = (stepMs[0] + 2 * stepMs[1] + stepMs[2]) / 4;
        double prefillS = b * perPrompt;
        double decodeS = e.newTokens() * meanStepMs / 1e3;
        double tokensPerS = (double) b * e.newTokens() / (prefillS + decodeS);
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("mode", kv.mode().name().toLowerCase(Locale.ROOT)).put("prompt", e.prompt()).put("new", e.newTokens())
                .put("sequences", b).put("tokens_per_s", tokensPerS).put("extrapolated", true)
                .put("method", "sequences x prefill seconds per prompt (" + k + " prompts through the engine) + new tokens x the mean"
                        + " decode step at that batch (trapezoid of steps timed at the start, middle and end context)")
                .put("prefill_prompts_timed", k).put("prefill_s_per_prompt", perPrompt).put("prefill_s", prefillS)
                .put("decode_s", decodeS).put("prefill_share", prefillS / (prefillS + decodeS));
        r.set("decode_step_ms_at_context", steps);
        System.err.printf(Locale.ROOT, "%s e2e %s: %d sequences, prefill %.3f s/prompt, mean step %.1f ms -> %.0f tokens/s%n",
                kv.describe(), e.key(), b, perPrompt, meanStepMs, tokensPerS);
        return r;
    }

    /** Seconds for {@code k} prompts of {@code promptTokens} tokens, submitted together, one greedy token each. */
    private static double prefill(CudaBackend gpu, ModelConfig shape, KvSettings kv, int k, int promptTokens, int device)
            throws Exception {
        Path tokDir = Files.createTempDirectory("kitty-synth-tok");
        Tokenizer tok = SyntheticTokenizer.write(tokDir.resolve("tokenizer.json"), shape.vocabSize());
        EngineOptions eo = new EngineOptions(tokDir, "cuda:" + device, 0, k, 0, promptTokens, CudaOptions.DEFAULTS);
        SplittableRandom rnd = new SplittableRandom(k);
        try (GenerationEngine e = new GenerationEngine(new SharedBackend(gpu), tok, eo, SHAPE, java.util.Set.of(-1))) {
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                prompts.add(rnd.ints(promptTokens, 0, shape.vocabSize()).toArray());
            }
            long t0 = System.nanoTime();
            List<java.util.concurrent.CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                fs.add(e.submit(new GenerationRequest("prefill-" + i, prompts.get(i), SamplingParams.greedy(1), kv)));
            }
            for (var f : fs) {
                GenerationResult r = f.get();
                if (r.error() != null) {
                    throw new IllegalStateException("generation failed: " + r.error());
                }
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /** kitty / fp16 (and kivi / fp16) of the figures the targets are stated in. */
    static void ratios(ObjectNode run) {
        JsonNode fp16 = run.path("modes").path("fp16");
        ObjectNode ratios = run.putObject("ratios_to_fp16");
        for (String mode : new String[] {"kivi", "kitty"}) {
            JsonNode m = run.path("modes").path(mode);
            if (m.isMissingNode() || fp16.isMissingNode()) {
                continue;
            }
            ObjectNode r = ratios.putObject(mode);
            m.path("max_sequences").fieldNames().forEachRemaining(key -> r.put("max_sequences_" + key,
                    ratio(m.path("max_sequences").path(key), fp16.path("max_sequences").path(key))));
            r.put("decode_full_batch_tokens_per_s", ratio(m.path("decode_full_batch").path("tokens_per_s"),
                    fp16.path("decode_full_batch").path("tokens_per_s")));
            for (JsonNode row : run.path("e2e")) {
                if (row.path("mode").asText().equals(mode)) {
                    for (JsonNode base : run.path("e2e")) {
                        if (base.path("mode").asText().equals("fp16") && base.path("prompt").equals(row.path("prompt"))
                                && base.path("new").equals(row.path("new"))) {
                            r.put("e2e_" + row.path("prompt").asInt() + "+" + row.path("new").asInt(),
                                    ratio(row.path("tokens_per_s"), base.path("tokens_per_s")));
                        }
                    }
                }
            }
        }
    }

    private static double ratio(JsonNode a, JsonNode b) {
        return b.asDouble(0) > 0 ? a.asDouble(0) / b.asDouble() : Double.NaN;
    }

    private static void write(Options o, ObjectNode json) throws java.io.IOException {
        Files.createDirectories(o.out());
        Files.writeString(o.out().resolve(o.resultsFile()), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(json));
        String md = table(json);
        Files.writeString(o.out().resolve("kitty-gpu-bench.md"), md);
        System.out.println(md);
    }

    static String table(JsonNode json) {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Synthetic %s on %s, commit %s; copy %.0f GB/s, GEMM %.0f TFLOP/s (same run)%n", SHAPE,
                json.path("gpu").asText(), json.path("commit").asText(), json.path("copy_gbs").asDouble(),
                json.path("gemm_tflops").asDouble()));
        for (JsonNode run : json.path("runs")) {
            md.append(String.format(Locale.ROOT, "%n### KV budget %s (%.1f GiB) in every mode%n%n", run.path("kv_budget").asText(),
                    run.path("kv_budget_gib").asDouble()));
            md.append("| mode | seqs @2K+512 | @8K+512 | @32K+512 | full batch | step ms | roofline ms | tokens/s |"
                    + " attention % of copy |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            run.path("modes").fields().forEachRemaining(en -> {
                JsonNode m = en.getValue();
                JsonNode cap = m.path("max_sequences");
                JsonNode d = m.path("decode_full_batch");
                md.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %.2f | %.2f | %.0f | %s |%n", en.getKey(),
                        cap.path("2048+512").asLong(), cap.path("8192+512").asLong(), cap.path("32768+512").asLong(),
                        d.path("batch").asInt(), d.path("step_ms").asDouble(), d.path("roofline_ms").asDouble(),
                        d.path("tokens_per_s").asDouble(), m.has("attention_fraction_of_copy")
                                ? String.format(Locale.ROOT, "%.1f", 100 * m.path("attention_fraction_of_copy").asDouble()) : "-"));
            });
            md.append("\n| end to end (extrapolated) | mode | sequences | tokens/s | prefill share |\n|---|---|---:|---:|---:|\n");
            for (JsonNode e : run.path("e2e")) {
                md.append(String.format(Locale.ROOT, "| %d + %d | %s | %d | %.0f | %.2f |%n", e.path("prompt").asInt(),
                        e.path("new").asInt(), e.path("mode").asText(), e.path("sequences").asInt(), e.path("tokens_per_s").asDouble(),
                        e.path("prefill_share").asDouble()));
            }
        }
        return md.toString();
    }
}
