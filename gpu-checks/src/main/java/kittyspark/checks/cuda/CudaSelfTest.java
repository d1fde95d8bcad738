package kittyspark.checks.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.backend.cuda.CudaBackend;
import kittyspark.runtime.backend.cuda.CudaOptions;
import kittyspark.runtime.backend.cuda.CudaSettings;
import kittyspark.runtime.backend.cuda.Precision;
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.gemm.GemmPlan;
import kittyspark.runtime.backend.cuda.gemm.TiledGemm;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.SafetensorsWriter;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.LogitMath;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.TinyCheckpoint;
import kittyspark.runtime.testing.TinyCheckpoint.Shape;
import kittyspark.runtime.tokenizer.Tokenizer;

/**
 * The GPU checks of the CUDA backend (a main class: CI has no GPU). Exits non-zero when a
 * check fails.
 * <ol>
 *   <li>kernels against host references: every GEMM variant (decode/tiled, split/bf16,
 *   partial tiles, accumulate) and the sampler (greedy, log-probabilities, top-k/top-p with
 *   the Philox stream mirrored in Java);</li>
 *   <li>CudaBackend against CpuBackend on tiny random Llama 3 and Qwen3 checkpoints: batched
 *   prefill of sequences of different lengths (one longer than a step, so it is fed in
 *   pieces) then 20 decode steps; max |logit diff| and argmax agreement;</li>
 *   <li>greedy generation through the engine (continuous batching) on both backends.</li>
 * </ol>
 * Usage: {@code CudaSelfTest [tokenizer-model-dir]} (default models/kitty-demo-qwen3-12m).
 */
public final class CudaSelfTest {
    private static int failures;

    private CudaSelfTest() {
    }

    public static void main(String[] args) throws Exception {
        Path tokDir = Path.of(args.length > 0 ? args[0] : System.getProperty("kitty.home", ".") + "/models/kitty-demo-qwen3-12m");
        try (CudaContext ctx = new CudaContext(0)) {
            System.out.println("device: " + ctx.name() + ", " + ctx.multiprocessors() + " SMs");
            Kernels k = new Kernels(ctx.stream());
            gemmChecks(ctx, k);
            samplingChecks(ctx, k);
        }
        Path tmp = Files.createTempDirectory("kitty-selftest");
        if (Boolean.getBoolean("kittyspark.selftest.kittyOnly")) {
            failures += CudaKittySelfTest.run(tokDir, tmp);
            System.out.println(failures == 0 ? "CudaSelfTest: ALL PASSED" : "CudaSelfTest: " + failures + " FAILED");
            System.exit(failures == 0 ? 0 : 1);
        }
        for (boolean qwen3 : new boolean[] {false, true}) {
            Path dir = writeCheckpoint(tmp.resolve(qwen3 ? "qwen3" : "llama3"), qwen3, 7, 32);
            Checkpoint ckpt = Checkpoint.open(dir);
            compareBackends(ckpt, Precision.SPLIT, 2e-3, 0.99);
            compareBackends(ckpt, Precision.BF16, 5e-2, 0.95);
            // head_dim 128 with a group of 4 query heads per KV head: the 8B models' decode kernel
            Shape g = Shape.gpu(128);
            Checkpoint wide = Checkpoint.open(writeCheckpoint(tmp.resolve((qwen3 ? "qwen3" : "llama3") + "-d128g4"), qwen3, 7,
                    new Shape(g.hidden(), g.inter(), g.layers(), 4, 1, 128, g.vocab(), g.maxPositions(), g.headType(),
                            g.projScale(), g.downScale(), g.headScale())));
            compareBackends(wide, Precision.SPLIT, 2e-3, 0.99);
            compareBackends(wide, Precision.BF16, 5e-2, 0.95);
            if (Files.isRegularFile(tokDir.resolve("tokenizer.json"))) {
                engineGreedy(ckpt, Tokenizer.load(tokDir.resolve("tokenizer.json")), dir);
            } else {
                System.out.println("SKIP engine checks: no tokenizer at " + tokDir);
            }
        }
        failures += CudaKittySelfTest.run(tokDir, tmp);
        System.out.println(failures == 0 ? "CudaSelfTest: ALL PASSED" : "CudaSelfTest: " + failures + " FAILED");
        System.exit(failures == 0 ? 0 : 1);
    }

    private static void check(boolean ok, String what) {
        System.out.println((ok ? "PASS " : "FAIL ") + what);
        if (!ok) {
            failures++;
        }
    }

    // ---------------------------------------------------------------------------------- GEMM

    /** M, N, K of the GEMM checks: partial tiles and odd N on every kernel (GemmCheck runs them on every implementation). */
    static final int[][] GEMM_SHAPES = {{1, 200, 96}, {7, 64, 64}, {12, 72, 160}, {20, 136, 256}, {50, 64, 512}, {100, 72, 128},
            {256, 40, 96}, {300, 260, 160}, {513, 384, 384}, {1, 64, 2080}, {16, 24, 2080}, {30, 48, 1024}, {200, 64, 1536}};

    private static void gemmChecks(CudaContext ctx, Kernels k) {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int[] s : GEMM_SHAPES) {
            for (boolean split : new boolean[] {true, false}) {
                for (boolean acc : new boolean[] {false, true}) {
                    gemmCheck(ctx, k, s[0], s[1], s[2], split, acc, rnd);
                }
            }
        }
    }

    private static void gemmCheck(CudaContext ctx, Kernels k, int m, int n, int kk, boolean split, boolean acc, SplittableRandom rnd) {
        float[] a = new float[m * kk];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        short[] hi = new short[a.length];
        short[] lo = new short[a.length];
        for (int i = 0; i < a.length; i++) {
            hi[i] = SafetensorsWriter.toBf16(a[i]);
            lo[i] = SafetensorsWriter.toBf16(a[i] - bf16(hi[i]));
        }
        short[] wt = new short[n * kk];
        for (int i = 0; i < wt.length; i++) {
            wt[i] = SafetensorsWriter.toBf16((float) ((rnd.nextDouble() * 2 - 1) * 0.1));
        }
        float[] init = new float[m * n];
        for (int i = 0; i < init.length; i++) {
            init[i] = (float) rnd.nextDouble();
        }
        double[] ref = new double[m * n];
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < n; c++) {
                double sum = acc ? init[r * n + c] : 0;
                for (int i = 0; i < kk; i++) {
                    double x = bf16(hi[r * kk + i]) + (split ? bf16(lo[r * kk + i]) : 0);
                    sum += x * bf16(wt[c * kk + i]);
                }
                ref[r * n + c] = sum;
            }
        }
        CUdeviceptr dh = upload(hi), dl = upload(lo), dw = upload(wt), dout = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(dout, 4L * m * n);
        float[] poison = new float[m * n];
        Arrays.fill(poison, Float.NaN);
        JCudaDriver.cuMemcpyHtoD(dout, Pointer.to(acc ? init : poison), 4L * m * n);
        long partialFloats = 4L * m * n;
        GemmPlan p = GemmPlan.of(m, n, kk, split, partialFloats);
        if (p.sharedBytes() > 48 * 1024) {
            k.allowSharedMemory(p.kernel(), p.sharedBytes());
        }
        CUdeviceptr part = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(part, 4 * partialFloats);
        TiledGemm.launch(k, p, dh, split ? dl : null, dw, dout, m, n, kk, acc, part);
        ctx.synchronize();
        JCudaDriver.cuMemFree(part);
        float[] out = new float[m * n];
        JCudaDriver.cuMemcpyDtoH(Pointer.to(out), dout, 4L * m * n);
        double num = 0, den = 0;
        boolean finite = true;
        for (int i = 0; i < out.length; i++) {
            finite &= Float.isFinite(out[i]);
            num += (out[i] - ref[i]) * (out[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-30));
        check(finite && rel < 1e-5, String.format(Locale.ROOT, "gemm %s x%d M=%d N=%d K=%d %s%s: rel err %.2e",
                p.kernel(), p.splits(), m, n, kk, split ? "split" : "bf16", acc ? " +=" : "", rel));
        for (CUdeviceptr d : new CUdeviceptr[] {dh, dl, dw, dout}) {
            JCudaDriver.cuMemFree(d);
        }
    }

    private static float bf16(short s) {
        return Float.intBitsToFloat((s & 0xffff) << 16);
    }

    private static CUdeviceptr upload(short[] a) {
        CUdeviceptr d = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(d, 2L * a.length);
        JCudaDriver.cuMemcpyHtoD(d, Pointer.to(a), 2L * a.length);
        return d;
    }

    private static CUdeviceptr upload(float[] a) {
        CUdeviceptr d = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(d, 4L * Math.max(1, a.length));
        JCudaDriver.cuMemcpyHtoD(d, Pointer.to(a), 4L * a.length);
        return d;
    }

    private static CUdeviceptr upload(int[] a) {
        CUdeviceptr d = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(d, 4L * Math.max(1, a.length));
        JCudaDriver.cuMemcpyHtoD(d, Pointer.to(a), 4L * a.length);
        return d;
    }

    // ------------------------------------------------------------------------------ sampling

    private static void samplingChecks(CudaContext ctx, Kernels k) {
        int vocab = 5000;
        int rows = 12;
        SplittableRandom rnd = new SplittableRandom(3);
        float[] logits = new float[rows * vocab];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (rnd.nextGaussian() * 3);
        }
        float[] temp = new float[rows];
        int[] topK = new int[rows];
        float[] topP = new float[rows];
        long[] seed = new long[rows];
        int[] index = new int[rows];
        for (int r = 0; r < rows; r++) {
            temp[r] = r < 2 ? 0f : (r % 3 == 0 ? 0.7f : 1.3f);
            topK[r] = r % 4 == 0 ? 0 : (r % 4 == 1 ? 1 : 50);
            topP[r] = r % 2 == 0 ? 1f : 0.8f;
            seed[r] = 1000L * r + 17;
            index[r] = r * 3;
        }
        CUdeviceptr dl = upload(logits), dt = upload(temp), dk = upload(topK), dp = upload(topP), di = upload(index);
        CUdeviceptr ds = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(ds, 8L * rows);
        JCudaDriver.cuMemcpyHtoD(ds, Pointer.to(seed), 8L * rows);
        CUdeviceptr dtok = new CUdeviceptr(), dlp = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(dtok, 4L * rows);
        JCudaDriver.cuMemAlloc(dlp, 4L * rows);
        k.launch("sample_rows", rows, 1, CudaBackend.SAMPLE_THREADS, 0, new KernelArgs().ptr(dl).i32(vocab).ptr(dt).ptr(dk)
                .ptr(dp).ptr(ds).ptr(di).ptr(dtok).ptr(dlp));
        ctx.synchronize();
        int[] tok = new int[rows];
        float[] lp = new float[rows];
        JCudaDriver.cuMemcpyDtoH(Pointer.to(tok), dtok, 4L * rows);
        JCudaDriver.cuMemcpyDtoH(Pointer.to(lp), dlp, 4L * rows);
        for (int r = 0; r < rows; r++) {
            int expected = SamplerMirror.pick(logits, r * vocab, vocab, temp[r], topK[r], topP[r], seed[r], index[r]);
            double elp = LogitMath.logProb(logits, r * vocab, vocab, tok[r]);
            check(tok[r] == expected && Math.abs(lp[r] - elp) < 1e-4, String.format(Locale.ROOT,
                    "sample row %d (T=%.1f k=%d p=%.1f): token %d (host mirror %d), logprob %.5f (host %.5f)",
                    r, temp[r], topK[r], topP[r], tok[r], expected, lp[r], elp));
        }
        for (CUdeviceptr d : new CUdeviceptr[] {dl, dt, dk, dp, di, ds, dtok, dlp}) {
            JCudaDriver.cuMemFree(d);
        }
    }

    // ----------------------------------------------------------------------- CPU vs CUDA

    /** A tiny random checkpoint (2 layers, 4 query and 2 kv heads) the CUDA kernels take. */
    static Path writeCheckpoint(Path dir, boolean qwen3, long seed, int headDim) throws Exception {
        return writeCheckpoint(dir, qwen3, seed, Shape.gpu(headDim));
    }

    static Path writeCheckpoint(Path dir, boolean qwen3, long seed, Shape shape) throws Exception {
        Path ckpt = TinyCheckpoint.write(dir, qwen3, seed, shape);
        Files.writeString(dir.resolve("generation_config.json"), "{}");
        return ckpt;
    }

    private static void compareBackends(Checkpoint ckpt, Precision precision, double relTol, double minArgmax) {
        String name = ckpt.config().architecture().hfName() + " d" + ckpt.config().headDim() + " g"
                + ckpt.config().numHeads() / ckpt.config().numKvHeads() + " " + precision;
        int[] lengths = {3, 17, 40, 300};
        SplittableRandom rnd = new SplittableRandom(11);
        int vocab = ckpt.config().vocabSize();
        // 96 tokens per step: the 300-token prompt is fed in pieces, the decode steps split keys.
        CudaSettings s = new CudaSettings(0, 8, 96, 64L << 20, 0.9, precision);
        try (CpuBackend cpu = new CpuBackend(ckpt, 2); CudaBackend gpu = CudaBackend.open(ckpt, s)) {
            List<SequenceState> cs = new ArrayList<>();
            List<SequenceState> gs = new ArrayList<>();
            List<ForwardInput> cin = new ArrayList<>();
            List<ForwardInput> gin = new ArrayList<>();
            for (int len : lengths) {
                int[] toks = rnd.ints(len, 0, vocab).toArray();
                cs.add(cpu.newSequence(KvSettings.parse("fp16")));
                gs.add(gpu.newSequence(KvSettings.parse("fp16")));
                cin.add(new ForwardInput(cs.get(cs.size() - 1), toks, true));
                gin.add(new ForwardInput(gs.get(gs.size() - 1), toks, true));
            }
            Stats st = new Stats();
            List<float[]> cl = cpu.forward(cin);
            List<float[]> gl = gpu.forward(gin);
            for (int i = 0; i < lengths.length; i++) {
                st.add(cl.get(i), gl.get(i), vocab);
            }
            String prefill = st.toString();
            for (int step = 0; step < 20; step++) {
                cin.clear();
                gin.clear();
                for (int i = 0; i < lengths.length; i++) {
                    float[] last = cl.get(i);
                    int next = LogitMath.argmax(last, last.length - vocab, vocab);
                    cin.add(new ForwardInput(cs.get(i), new int[] {next}, false));
                    gin.add(new ForwardInput(gs.get(i), new int[] {next}, false));
                }
                cl = cpu.forward(cin);
                gl = gpu.forward(gin);
                for (int i = 0; i < lengths.length; i++) {
                    st.add(cl.get(i), gl.get(i), vocab);
                }
            }
            check(st.maxDiff <= relTol * Math.max(1, st.maxAbs) && st.agreement() >= minArgmax,
                    "cpu vs cuda " + name + ": prefill " + prefill + "; with 20 decode steps " + st
                            + String.format(Locale.ROOT, " (tolerance %.1e x max|logit|, argmax >= %.2f)", relTol, minArgmax));
            check(gpu.graphReplays() > 0, "cuda " + name + ": the decode steps above were replayed as CUDA graphs: " + gpu.graphSummary());
            for (SequenceState q : gs) {
                q.release();
            }
            check(gpu.pagePool().availablePages() == gpu.pagePool().totalPages(), "cuda " + name + ": released sequences return every page");
            if (ckpt.config().headDim() != 32) {
                return;
            }
            String msg = "";
            try {
                gpu.newSequence(KvSettings.parse("kitty"));
            } catch (IllegalArgumentException e) {
                msg = e.getMessage();
            }
            check(msg.contains("head_dim 32"), "cuda refuses kitty pages for head_dim 32 (no kernel): " + msg);
        }
    }

    private static final class Stats {
        double maxDiff;
        double maxAbs;
        long rows;
        long agree;

        void add(float[] a, float[] b, int vocab) {
            for (int r = 0; r < a.length / vocab; r++) {
                rows++;
                if (LogitMath.argmax(a, r * vocab, vocab) == LogitMath.argmax(b, r * vocab, vocab)) {
                    agree++;
                }
            }
            for (int i = 0; i < a.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                maxAbs = Math.max(maxAbs, Math.abs(a[i]));
                if (!Float.isFinite(b[i])) {
                    maxDiff = Double.POSITIVE_INFINITY;
                }
            }
        }

        double agreement() {
            return (double) agree / rows;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "max|diff| %.3e (max|logit| %.2f), argmax %d/%d", maxDiff, maxAbs, agree, rows);
        }
    }

    // ----------------------------------------------------------------------------- engine

    private static void engineGreedy(Checkpoint ckpt, Tokenizer tok, Path dir) throws Exception {
        String name = ckpt.config().architecture().hfName();
        EngineOptions o = new EngineOptions(dir, "cpu", 2, 3, 0, 64, CudaOptions.DEFAULTS);
        SplittableRandom rnd = new SplittableRandom(5);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            prompts.add(rnd.ints(5 + rnd.nextInt(150), 3, ckpt.config().vocabSize()).toArray());
        }
        List<int[]> cpuOut = generate(new CpuBackend(ckpt, 2), tok, o, prompts, SamplingParams.greedy(24));
        CudaSettings s = new CudaSettings(0, 3, 64 + 3, 0, 0.5, Precision.SPLIT);
        List<int[]> gpuOut = generate(CudaBackend.open(ckpt, s), tok, o.withDevice("cuda:0"), prompts, SamplingParams.greedy(24));
        int same = 0;
        StringBuilder diff = new StringBuilder();
        for (int i = 0; i < prompts.size(); i++) {
            if (Arrays.equals(cpuOut.get(i), gpuOut.get(i))) {
                same++;
            } else {
                int d = 0;
                while (d < Math.min(cpuOut.get(i).length, gpuOut.get(i).length) && cpuOut.get(i)[d] == gpuOut.get(i)[d]) {
                    d++;
                }
                diff.append(" #").append(i).append('@').append(d);
            }
        }
        check(same >= prompts.size() - 1, "engine greedy " + name + ": " + same + "/" + prompts.size()
                + " continuations identical on cpu and cuda" + diff);
        SamplingParams sampled = new SamplingParams(24, 0.9, 40, 0.9, 1234L, List.of());
        List<int[]> a = generate(CudaBackend.open(ckpt, s), tok, o.withDevice("cuda:0"), prompts.subList(0, 3), sampled);
        List<int[]> b = generate(CudaBackend.open(ckpt, s.withMaxBatch(1)), tok, o.withDevice("cuda:0").withMaxBatch(1),
                prompts.subList(0, 3), sampled);
        boolean same2 = true;
        for (int i = 0; i < 3; i++) {
            same2 &= Arrays.equals(a.get(i), b.get(i));
        }
        check(same2, "engine sampling " + name + ": same seed, same tokens at batch 3 and batch 1 on cuda");
    }

    private static List<int[]> generate(Backend backend, Tokenizer tok, EngineOptions o, List<int[]> prompts, SamplingParams p)
            throws Exception {
        try (GenerationEngine e = new GenerationEngine(backend, tok, o, "selftest", Set.of(-1))) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                fs.add(e.submit(new GenerationRequest("r" + i, prompts.get(i), p, KvSettings.parse("fp16"))));
            }
            List<int[]> out = new ArrayList<>();
            for (CompletableFuture<GenerationResult> f : fs) {
                GenerationResult r = f.get();
                if (r.error() != null) {
                    throw new IllegalStateException(backend.device() + ": " + r.error());
                }
                out.add(r.tokens());
            }
            return out;
        }
    }
}
