package kittyspark.checks.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.cuda.CudaBackend;
import kittyspark.runtime.backend.cuda.CudaOptions;
import kittyspark.runtime.backend.cuda.CudaSettings;
import kittyspark.runtime.backend.cuda.Precision;
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.gemm.GemmPlan;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.backend.cuda.driver.LaunchProfile;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.ModelShapes;
import kittyspark.runtime.tokenizer.Tokenizer;

/**
 * The GPU benchmark on a synthetic model of a named shape (random bf16 weights made
 * on the device): the machine's two ceilings measured with our own code (a device copy and our
 * tiled GEMM), decode-step time against the roofline at several batch sizes and contexts,
 * prefill throughput of a 2K prompt, and end-to-end generation through the engine.
 *
 * <p>Long contexts for the decode steps are not prefilled: each sequence claims its pages and
 * the page pools hold seeded random fp16 keys and values, which attention reads exactly as it
 * reads real ones (the cost does not depend on the values).
 */
public final class GpuBench {
    public static final double DATASHEET_BF16_FLOPS = 989e12;

    public record Options(String shape, int device, int[] decodeBatches, int[] contexts, int prefillTokens,
                          int[] e2eBatches, int e2ePrompt, int e2eNew, int decodeSteps, Path out) {
    }

    private final Options o;
    private final ObjectNode json = JsonNodeFactory.instance.objectNode();
    private final StringBuilder md = new StringBuilder();

    private GpuBench(Options o) {
        this.o = o;
    }

    public static ObjectNode run(Options o) throws Exception {
        return new GpuBench(o).run();
    }

    private ObjectNode run() throws Exception {
        ModelConfig shape = ModelShapes.named(o.shape());
        json.put("shape", o.shape());
        double copyBw;
        double gemmFlops;
        try (CudaContext ctx = new CudaContext(o.device())) {
            json.put("gpu", ctx.name());
            copyBw = copyBandwidth(ctx);
            gemmFlops = gemmPeak(ctx, new Kernels(ctx.stream()));
        }
        System.err.printf(Locale.ROOT, "ceilings: copy %.0f GB/s, our GEMM %.0f TFLOP/s%n", copyBw / 1e9, gemmFlops / 1e12);
        json.put("copy_bw_gbs", copyBw / 1e9);
        json.put("gemm_tflops_ours", gemmFlops / 1e12);
        Roofline roof = new Roofline(shape, copyBw, gemmFlops);
        line("# GPU benchmark: synthetic %s on %s", o.shape(), json.get("gpu").asText());
        line("");
        line("Ceilings measured in this run: device copy %.0f GB/s (read + write), our tiled bf16 GEMM %.0f TFLOP/s"
                + " (8192x8192x8192, bf16 operands). Roofline = max(bytes / copy bandwidth, FLOPs / our GEMM peak).",
                copyBw / 1e9, gemmFlops / 1e12);
        int maxBatch = Arrays.stream(o.decodeBatches()).max().orElse(1);
        for (int b : o.e2eBatches()) {
            maxBatch = Math.max(maxBatch, b);
        }
        CudaSettings s = new CudaSettings(o.device(), maxBatch, Math.max(o.prefillTokens(), o.e2ePrompt()) + maxBatch, 0,
                CudaSettings.DEFAULT_KV_FRACTION, Precision.BF16);
        try (CudaBackend gpu = CudaBackend.synthetic(shape, 42, s)) {
            json.put("kv_pool_tokens", gpu.pagePool().totalTokens());
            json.put("max_seqs_2048_128", gpu.pagePool().maxSequencesOf(2048 + 128));
            line("");
            line("KV pool: %d tokens of fp16 pages (%d pages of 16); %d sequences of 2048 + 128 fit at once.",
                    gpu.pagePool().totalTokens(), gpu.pagePool().totalPages(), gpu.pagePool().maxSequencesOf(2048 + 128));
            gemmShapes(gpu, copyBw);
            decode(gpu, roof);
            prefill(gpu, roof, gemmFlops);
            profiles(gpu);
            endToEnd(gpu, shape);
        }
        write();
        return json;
    }

    // -------------------------------------------------------------------------- ceilings

    static double copyBandwidth(CudaContext ctx) {
        long bytes = 2L << 30;
        CUdeviceptr a = new CUdeviceptr();
        CUdeviceptr b = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(a, bytes);
        JCudaDriver.cuMemAlloc(b, bytes);
        JCudaDriver.cuMemsetD8(a, (byte) 1, bytes);
        double best = 0;
        for (int i = 0; i < 6; i++) {
            float ms = timed(ctx, () -> JCudaDriver.cuMemcpyDtoDAsync(b, a, bytes, ctx.stream()));
            if (i > 0) {
                best = Math.max(best, 2.0 * bytes / (ms / 1e3));
            }
        }
        JCudaDriver.cuMemFree(a);
        JCudaDriver.cuMemFree(b);
        return best;
    }

    static double gemmPeak(CudaContext ctx, Kernels k) {
        int n = 8192;
        long elems = (long) n * n;
        CUdeviceptr a = new CUdeviceptr();
        CUdeviceptr w = new CUdeviceptr();
        CUdeviceptr c = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(a, 2 * elems);
        JCudaDriver.cuMemAlloc(w, 2 * elems);
        JCudaDriver.cuMemAlloc(c, 4 * elems);
        k.launch("fill_bf16_uniform", 1024, 1, 256, 0, new KernelArgs().ptr(a).i64(elems).i64(1).f32(0f).f32(1f));
        k.launch("fill_bf16_uniform", 1024, 1, 256, 0, new KernelArgs().ptr(w).i64(elems).i64(2).f32(0f).f32(0.02f));
        GemmPlan p = GemmPlan.of(n, n, n, false);
        k.allowSharedMemory(p.kernel(), p.sharedBytes());
        double best = 0;
        for (int i = 0; i < 6; i++) {
            float ms = timed(ctx, () -> k.launch(p.kernel(), p.gridX(), p.gridY(), p.block(), p.sharedBytes(),
                    new KernelArgs().ptr(a).ptr(null).ptr(w).ptr(c).i32(n).i32(n).i32(n).i32(0)));
            if (i > 0) {
                best = Math.max(best, 2.0 * n * n * (double) n / (ms / 1e3));
            }
        }
        JCudaDriver.cuMemFree(a);
        JCudaDriver.cuMemFree(w);
        JCudaDriver.cuMemFree(c);
        return best;
    }

    private static float timed(CudaContext ctx, Runnable work) {
        CUevent start = new CUevent();
        CUevent end = new CUevent();
        JCudaDriver.cuEventCreate(start, 0);
        JCudaDriver.cuEventCreate(end, 0);
        JCudaDriver.cuEventRecord(start, ctx.stream());
        work.run();
        JCudaDriver.cuEventRecord(end, ctx.stream());
        JCudaDriver.cuEventSynchronize(end);
        float[] ms = new float[1];
        JCudaDriver.cuEventElapsedTime(ms, start, end);
        JCudaDriver.cuEventDestroy(start);
        JCudaDriver.cuEventDestroy(end);
        return ms[0];
    }

    // ------------------------------------------------------------------------ GEMM shapes

    /** Each of a layer's GEMMs (and the LM head) alone at decode batch sizes: time and weight bandwidth. */
    private void gemmShapes(CudaBackend gpu, double copyBw) {
        ModelConfig c = gpu.config();
        int h = c.hiddenSize();
        int qw = c.numHeads() * c.headDim();
        int kvw = c.numKvHeads() * c.headDim();
        int[][] shapes = {{qw + 2 * kvw, h}, {h, qw}, {2 * c.intermediateSize(), h}, {h, c.intermediateSize()}, {c.vocabSize(), h}};
        String[] names = {"qkv", "o", "gate_up", "down", "lm_head"};
        ArrayNode rows = json.putArray("gemm_shapes");
        line("");
        line("## GEMM shapes alone (CUDA events, median of 10; weight bytes / time vs copy bandwidth)");
        line("");
        line("| GEMM | M | N | K | kernel | us | weight GB/s | %% of copy | TFLOP/s |");
        line("|---|---:|---:|---:|---|---:|---:|---:|---:|");
        for (int m : new int[] {1, 16, 64, 256, 2048}) {
            for (int i = 0; i < shapes.length; i++) {
                int n = shapes[i][0];
                int k = shapes[i][1];
                CUdeviceptr dst = gpu.scratchOut(names[i], m);
                if (dst == null) {
                    continue;
                }
                double[] us = new double[10];
                CUdeviceptr wgt = gpu.weightForBench(names[i]);
                for (int r = -2; r < us.length; r++) {
                    float ms = timed(gpu.context(), () -> gpu.gemm(wgt, dst, m, n, k, false));
                    if (r >= 0) {
                        us[r] = ms * 1e3;
                    }
                }
                double med = median(us);
                double bw = 2.0 * n * k / (med / 1e6);
                double tf = 2.0 * m * n * (double) k / (med / 1e6) / 1e12;
                String kernel = gpu.gemm().describe(m, n, k);

                rows.addObject().put("gemm", names[i]).put("m", m).put("n", n).put("k", k).put("kernel", kernel).put("us", med)
                        .put("weight_gbs", bw / 1e9).put("tflops", tf);
                line("| %s | %d | %d | %d | %s | %.1f | %.0f | %.0f%% | %.1f |", names[i], m, n, k, kernel, med, bw / 1e9,
                        100 * bw / copyBw, tf);
                System.err.printf(Locale.ROOT, "gemm %s m=%d: %.1f us, %.0f GB/s, %.1f TFLOP/s%n", names[i], m, med, bw / 1e9, tf);
            }
        }
    }

    // ---------------------------------------------------------------------------- decode

    private void decode(CudaBackend gpu, Roofline roof) {
        gpu.fillKvRandom(7);
        ArrayNode rows = json.putArray("decode");
        line("");
        line("## Decode step (one new token per sequence, device sampling included; host clock, median of %d steps)", o.decodeSteps());
        line("");
        line("Steps replayed as CUDA graphs (the engine's default); the last two columns are the same steps with every kernel");
        line("launched from the host (`kitty.engine.cuda.cuda-graphs = false`), measured right before them.");
        line("");
        line("| batch | context | step ms | roofline ms | x roofline | tokens/s | bound | host enqueue ms | launches | launched: step ms | launched: enqueue ms |");
        line("|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
        int vocab = gpu.config().vocabSize();
        for (int ctxLen : o.contexts()) {
            java.util.Set<Integer> measured = new java.util.HashSet<>();
            for (int asked : o.decodeBatches()) {
                ObjectNode r = rows.addObject().put("batch", asked).put("context", ctxLen);
                int fits = (int) (gpu.pagePool().availablePages() / gpu.pagePool().pagesForTokens(ctxLen));
                int b = Math.min(asked, fits);
                if (b < asked) {
                    // The pool holds fewer sequences of this context: measure the largest batch that fits.
                    r.put("fits", false).put("max_batch_that_fits", fits);
                    line("| %d: does not fit (%d x %d tokens > pool of %d); measured at %d below | %d | | | | | |", asked, asked, ctxLen,
                            gpu.pagePool().totalTokens(), fits, ctxLen);
                    if (b < 1) {
                        continue;
                    }
                    if (measured.contains(b)) {
                        continue;
                    }
                    r = rows.addObject().put("batch", b).put("context", ctxLen);
                }
                measured.add(b);
                List<SequenceState> seqs = new ArrayList<>();
                for (int i = 0; i < b; i++) {
                    seqs.add(gpu.syntheticSequence(ctxLen - 2 * (o.decodeSteps() + 2) - 1, ctxLen));  // two passes: launched, replayed
                }
                SplittableRandom rnd = new SplittableRandom(b * 31L + ctxLen);
                gpu.useGraphs(false);
                Steps launched = decodeSteps(gpu, seqs, rnd, vocab);
                gpu.useGraphs(true);
                Steps s = decodeSteps(gpu, seqs, rnd, vocab);
                double med = s.ms();
                double hostMs = s.hostMs();
                long launches = s.launches();
                seqs.forEach(SequenceState::release);
                Roofline.Cost cost = roof.decodeStep(b, ctxLen, 2.0);
                double floor = cost.seconds() * 1e3;
                r.put("fits", true).put("step_ms", med).put("roofline_ms", floor).put("x_roofline", med / floor)
                        .put("tokens_per_s", b / (med / 1e3)).put("memory_bound", cost.memoryBound())
                        .put("host_enqueue_ms", hostMs).put("kernel_launches", launches)
                        .put("launched_step_ms", launched.ms()).put("launched_host_enqueue_ms", launched.hostMs());
                line("| %d | %d | %.2f | %.2f | %.2f | %.0f | %s | %.2f | %d | %.2f | %.2f |", b, ctxLen, med, floor, med / floor,
                        b / (med / 1e3), cost.memoryBound() ? "memory" : "compute", hostMs, launches, launched.ms(),
                        launched.hostMs());
                System.err.printf(Locale.ROOT, "decode b=%d ctx=%d: %.2f ms (roofline %.2f), host enqueue %.2f ms, %d kernel launches"
                        + " (cuBLAS calls not counted); every kernel launched from the host: %.2f ms, enqueue %.2f ms; %s%n", b,
                        ctxLen, med, floor, hostMs, launches, launched.ms(), launched.hostMs(), gpu.graphSummary());
            }
        }
    }

    /** Median step time, host enqueue time and kernel launches of a decode step. */
    private record Steps(double ms, double hostMs, long launches) {
    }

    /** One decode step's inputs: a random next token per sequence. */
    private static List<ForwardInput> decodeRows(List<SequenceState> seqs, SplittableRandom rnd, int vocab) {
        List<ForwardInput> in = new ArrayList<>(seqs.size());
        for (SequenceState q : seqs) {
            in.add(new ForwardInput(q, new int[] {rnd.nextInt(vocab)}, false));
        }
        return in;
    }

    /** Greedy sampling of every row. */
    private static List<SampleSpec> greedy(int rows) {
        return Collections.nCopies(rows, new SampleSpec(SamplingParams.greedy(1), 0, null));
    }

    /** Two warm-up steps (the second captures the step's graph when graphs are on), then the timed ones. */
    private Steps decodeSteps(CudaBackend gpu, List<SequenceState> seqs, SplittableRandom rnd, int vocab) {
        double[] ms = new double[o.decodeSteps()];
        double[] hostMs = new double[o.decodeSteps()];
        long launches = 0;
        for (int step = -2; step < o.decodeSteps(); step++) {
            List<ForwardInput> in = decodeRows(seqs, rnd, vocab);
            long l0 = gpu.kernels().launched();
            long t0 = System.nanoTime();
            gpu.forwardAndSample(in, greedy(seqs.size()));
            if (step >= 0) {
                ms[step] = (System.nanoTime() - t0) / 1e6;
                hostMs[step] = gpu.lastStepHostNanos() / 1e6;
                launches = gpu.kernels().launched() - l0;
            }
        }
        return new Steps(median(ms), median(hostMs), launches);
    }

    // --------------------------------------------------------------------------- prefill

    private void prefill(CudaBackend gpu, Roofline roof, double gemmFlops) {
        int n = o.prefillTokens();
        int vocab = gpu.config().vocabSize();
        SplittableRandom rnd = new SplittableRandom(3);
        double[] ms = new double[3];
        for (int i = -1; i < ms.length; i++) {
            SequenceState q = gpu.newSequence(KvSettings.parse("fp16"), n);
            int[] toks = rnd.ints(n, 0, vocab).toArray();
            long t0 = System.nanoTime();
            gpu.forward(List.of(new ForwardInput(q, toks, false)));
            if (i >= 0) {
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            q.release();
        }
        double med = median(ms);
        Roofline.Cost cost = roof.prefill(n);
        double flops = cost.flops() / (med / 1e3);
        json.putObject("prefill").put("tokens", n).put("ms", med).put("tokens_per_s", n / (med / 1e3))
                .put("tflops", flops / 1e12).put("pct_of_989", 100 * flops / DATASHEET_BF16_FLOPS)
                .put("pct_of_our_gemm_peak", 100 * flops / gemmFlops).put("roofline_ms", cost.seconds() * 1e3);
        line("");
        line("## Prefill of one %d-token prompt (median of 3)", n);
        line("");
        line("%.1f ms: %.0f tokens/s, %.0f TFLOP/s = %.1f%% of the 989 TFLOP/s datasheet peak (%.1f%% of our GEMM's %.0f); roofline %.1f ms.",
                med, n / (med / 1e3), flops / 1e12, 100 * flops / DATASHEET_BF16_FLOPS, 100 * flops / gemmFlops,
                gemmFlops / 1e12, cost.seconds() * 1e3);
        System.err.printf(Locale.ROOT, "prefill %d: %.1f ms, %.0f TFLOP/s%n", n, med, flops / 1e12);
    }

    // --------------------------------------------------------------------------- profiles

    /** Device time per kernel of one prefill and of decode steps at batch 1 and 64 (2K context), launched from the host. */
    private void profiles(CudaBackend gpu) {
        ObjectNode prof = json.putObject("profile");
        line("");
        line("## Where a step's time goes (CUDA events around every launch and GEMM of one step, launched from the host)");
        int vocab = gpu.config().vocabSize();
        SplittableRandom rnd = new SplittableRandom(5);
        SequenceState p = gpu.newSequence(KvSettings.parse("fp16"), o.prefillTokens());
        int[] toks = rnd.ints(o.prefillTokens(), 0, vocab).toArray();
        profileTable(prof, "prefill_" + o.prefillTokens(), "prefill of one " + o.prefillTokens() + "-token prompt",
                gpu.profileStep(() -> gpu.forward(List.of(new ForwardInput(p, toks, false)))));
        p.release();
        int ctxLen = 2048;
        for (int b : new int[] {1, 64}) {
            List<SequenceState> seqs = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                seqs.add(gpu.syntheticSequence(ctxLen - 2, ctxLen));
            }
            List<ForwardInput> in = decodeRows(seqs, rnd, vocab);
            List<SampleSpec> specs = greedy(b);
            profileTable(prof, "decode_b" + b + "_ctx" + ctxLen, "decode step, batch " + b + ", context " + ctxLen,
                    gpu.profileStep(() -> gpu.forwardAndSample(in, specs)));
            seqs.forEach(SequenceState::release);
        }
    }

    private void profileTable(ObjectNode prof, String key, String title, List<LaunchProfile.Entry> entries) {
        double total = entries.stream().mapToDouble(LaunchProfile.Entry::ms).sum();
        ArrayNode rows = prof.putArray(key);
        line("");
        line("%s: %.2f ms of device time in %d spans", title, total, entries.stream().mapToInt(LaunchProfile.Entry::launches).sum());
        line("");
        line("| kernel or GEMM | ms | launches | share |");
        line("|---|---:|---:|---:|");
        entries.stream().sorted((a, b) -> Double.compare(b.ms(), a.ms())).forEach(e -> {
            rows.addObject().put("name", e.name()).put("ms", e.ms()).put("launches", e.launches());
            line("| %s | %.3f | %d | %.1f%% |", e.name(), e.ms(), e.launches(), 100 * e.ms() / total);
        });
        System.err.printf(Locale.ROOT, "profile %s: %.2f ms%n", key, total);
    }

    // ------------------------------------------------------------------------ end to end

    private void endToEnd(CudaBackend gpu, ModelConfig shape) throws Exception {
        Path tokDir = Files.createTempDirectory("kitty-synth-tok");
        Tokenizer tok = SyntheticTokenizer.write(tokDir.resolve("tokenizer.json"), shape.vocabSize());
        ArrayNode rows = json.putArray("generate");
        line("");
        line("## End-to-end generation through the engine (prompt %d, %d new tokens, greedy, all submitted at once)",
                o.e2ePrompt(), o.e2eNew());
        line("");
        line("| batch | seconds | generated tokens/s |");
        line("|---:|---:|---:|");
        for (int b : o.e2eBatches()) {
            EngineOptions eo = new EngineOptions(tokDir, "cuda:" + o.device(), 0, b, 0, o.e2ePrompt(), CudaOptions.DEFAULTS);
            GenerationEngine e = new GenerationEngine(new SharedBackend(gpu), tok, eo, o.shape(), Set.of(-1));
            SplittableRandom rnd = new SplittableRandom(b);
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < b; i++) {
                int[] prompt = rnd.ints(o.e2ePrompt(), 0, shape.vocabSize()).toArray();
                fs.add(e.submit(new GenerationRequest("b" + b + "-" + i, prompt, SamplingParams.greedy(o.e2eNew()),
                        KvSettings.parse("fp16"))));
            }
            long generated = 0;
            for (CompletableFuture<GenerationResult> f : fs) {
                GenerationResult r = f.get();
                if (r.error() != null) {
                    throw new IllegalStateException("generation failed: " + r.error());
                }
                generated += r.tokens().length;
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            e.close(); // closes the engine's scheduler, not the shared backend
            rows.addObject().put("batch", b).put("seconds", secs).put("generated", generated).put("tokens_per_s", generated / secs);
            line("| %d | %.2f | %.1f |", b, secs, generated / secs);
            System.err.printf(Locale.ROOT, "generate b=%d: %.2f s, %.1f tokens/s%n", b, secs, generated / secs);
        }
    }

    // ---------------------------------------------------------------------------- output

    private void line(String fmt, Object... args) {
        md.append(String.format(Locale.ROOT, fmt, args)).append('\n');
    }

    private void write() throws IOException {
        if (o.out() == null) {
            System.out.println(md);
            return;
        }
        Files.createDirectories(o.out());
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.writeString(o.out().resolve("gpu-bench.json"), m.writeValueAsString(json));
        Files.writeString(o.out().resolve("gpu-bench.md"), md.toString());
        System.out.println(md);
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Defaults of the benchmark. */
    public static Options defaults(Path out) {
        return new Options("llama3-8b", 0, new int[] {1, 16, 64, 256}, new int[] {2048, 8192}, 2048,
                new int[] {1, 16, 32, 64, 256}, 2048, 128, 10, out);
    }

    public static void main(String[] args) throws Exception {
        run(defaults(args.length > 0 ? Path.of(args[0]) : null));
    }
}
