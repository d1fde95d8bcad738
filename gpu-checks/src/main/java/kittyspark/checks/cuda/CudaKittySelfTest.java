package kittyspark.checks.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import kittyspark.kvquant.KeyPageLayout;
import kittyspark.kvquant.QuantConfig;
import kittyspark.kvquant.ValuePageLayout;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.backend.cuda.CudaBackend;
import kittyspark.runtime.backend.cuda.CudaSettings;
import kittyspark.runtime.backend.cuda.Precision;
import kittyspark.runtime.backend.cuda.kitty.KittyAttentionProbe;
import kittyspark.runtime.backend.cuda.kitty.KittyAttentionVariant;
import kittyspark.runtime.backend.cuda.kitty.KittyFlush;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.kv.QuantizedKvCache;
import kittyspark.runtime.sampling.LogitMath;

/**
 * GPU checks of the CUDA backend's kivi/kitty modes (run by {@link CudaSelfTest}, or alone
 * with {@code -Dkittyspark.selftest.kittyOnly=true}): logits of CudaBackend vs CpuBackend over
 * prompts fed in one piece and in chunks, then enough decode steps to cross key and value page
 * boundaries (max |diff|, argmax agreement, KL between the backends' distributions); and the
 * page bytes the GPU made after a prompt equal kvquant's KeyPageLayout / ValuePageLayout over
 * the same fp16 inputs; and every attention kernel variant agrees with the engine's over the
 * pages the decode steps left.
 */
final class CudaKittySelfTest {
    /**
     * Mean KL(cpu || cuda) the backends may differ by (target: < 1e-4). Not a bound on every
     * row: the GPU keeps full-precision K/V as fp16 (the CPU as fp32) and quantizes decode-time
     * pages from those fp16 rows, so a code near a rounding boundary can land one step apart,
     * and a 2-bit step is large; such rows show in the max, which is reported.
     */
    static final double KL_BOUND = 1e-4;
    /**
     * How far two attention kernel variants may differ, relative to the output's largest value:
     * each is within ~1e-5 of a float64 reference (gpu-runtime/src/test/cuda/), so 1e-4 is noise.
     */
    static final double VARIANT_BOUND = 1e-4;

    private CudaKittySelfTest() {
    }

    public static void main(String[] args) throws Exception {
        Path demo = Path.of(args.length > 0 ? args[0] : System.getProperty("kitty.home", ".") + "/models/kitty-demo-qwen3-12m");
        int failed = run(demo, Files.createTempDirectory("kitty-selftest"));
        System.out.println(failed == 0 ? "CudaKittySelfTest: ALL PASSED" : "CudaKittySelfTest: " + failed + " FAILED");
        System.exit(failed == 0 ? 0 : 1);
    }

    private static int failures;

    private static void check(boolean ok, String what) {
        System.out.println((ok ? "PASS " : "FAIL ") + what);
        if (!ok) {
            failures++;
        }
    }

    /** Runs every check; returns the number that failed. */
    static int run(Path demo, Path tmp) throws Exception {
        failures = 0;
        List<Checkpoint> models = new ArrayList<>();
        if (Files.isRegularFile(demo.resolve("config.json"))) {
            models.add(Checkpoint.open(demo));
        } else {
            System.out.println("SKIP demo model: none at " + demo);
        }
        for (boolean qwen3 : new boolean[] {false, true}) {
            models.add(Checkpoint.open(CudaSelfTest.writeCheckpoint(tmp.resolve((qwen3 ? "qwen3" : "llama3") + "-d64"), qwen3, 7, 64)));
        }
        for (Checkpoint ckpt : models) {
            for (String mode : new String[] {"kitty", "kivi"}) {
                KvSettings kv = KvSettings.parse(mode);
                try {
                    parity(ckpt, kv);
                    pageBytes(ckpt, kv);
                } catch (RuntimeException e) {
                    e.printStackTrace(System.out);
                    check(false, name(ckpt) + " " + mode + ": " + e);
                }
            }
        }
        return failures;
    }

    private static String name(Checkpoint ckpt) {
        return ckpt.config().architecture().hfName() + " d" + ckpt.config().headDim() + " L" + ckpt.config().numLayers();
    }

    /**
     * Sequences of 1, 31, 150 prompt tokens fed in one piece, 300 fed as 3 x 100 (later chunks
     * see the pages the earlier ones made), then 150 greedy decode steps (past S + P + W), on
     * both backends with the same pieces.
     */
    private static void parity(Checkpoint ckpt, KvSettings kv) {
        int vocab = ckpt.config().vocabSize();
        int[][] chunks = {{1}, {31}, {150}, {100, 100, 100}};
        int steps = 150;
        SplittableRandom rnd = new SplittableRandom(3);
        CudaSettings s = new CudaSettings(0, 8, 512, 512L << 20, 0.9, Precision.SPLIT, kv);
        try (CpuBackend cpu = new CpuBackend(ckpt, 2); CudaBackend gpu = CudaBackend.open(ckpt, s)) {
            List<SequenceState> cs = new ArrayList<>();
            List<SequenceState> gs = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            for (int[] c : chunks) {
                int len = Arrays.stream(c).sum();
                prompts.add(rnd.ints(len, 1, vocab).toArray());
                cs.add(cpu.newSequence(kv));
                gs.add(gpu.newSequence(kv, len + steps + 1));
            }
            Stats prefill = new Stats();
            float[][] last = new float[chunks.length][];
            for (int round = 0; round < 3; round++) {
                List<ForwardInput> cin = new ArrayList<>();
                List<ForwardInput> gin = new ArrayList<>();
                List<Integer> who = new ArrayList<>();
                for (int i = 0; i < chunks.length; i++) {
                    if (round < chunks[i].length) {
                        int from = Arrays.stream(chunks[i], 0, round).sum();
                        int[] piece = Arrays.copyOfRange(prompts.get(i), from, from + chunks[i][round]);
                        cin.add(new ForwardInput(cs.get(i), piece, true));
                        gin.add(new ForwardInput(gs.get(i), piece, true));
                        who.add(i);
                    }
                }
                List<float[]> cl = cpu.forward(cin);
                List<float[]> gl = gpu.forward(gin);
                for (int j = 0; j < who.size(); j++) {
                    prefill.add(cl.get(j), gl.get(j), vocab);
                    float[] c = cl.get(j);
                    last[who.get(j)] = Arrays.copyOfRange(c, c.length - vocab, c.length);
                }
            }
            Stats decode = new Stats();
            for (int step = 0; step < steps; step++) {
                List<ForwardInput> cin = new ArrayList<>();
                List<ForwardInput> gin = new ArrayList<>();
                for (int i = 0; i < chunks.length; i++) {
                    int next = LogitMath.argmax(last[i], 0, vocab);
                    cin.add(new ForwardInput(cs.get(i), new int[] {next}, false));
                    gin.add(new ForwardInput(gs.get(i), new int[] {next}, false));
                }
                List<float[]> cl = cpu.forward(cin);
                List<float[]> gl = gpu.forward(gin);
                for (int i = 0; i < chunks.length; i++) {
                    decode.add(cl.get(i), gl.get(i), vocab);
                    last[i] = cl.get(i);
                }
            }
            String what = name(ckpt) + " " + kv.describe();
            check(prefill.klMean() < KL_BOUND && prefill.agreement() >= 0.99,
                    "cpu vs cuda " + what + " prompts (1, 31, 150, 3x100 in chunks): " + prefill);
            check(decode.klMean() < KL_BOUND && decode.agreement() >= 0.98,
                    "cpu vs cuda " + what + " " + steps + " decode steps (to " + (300 + steps) + " tokens): " + decode);
            QuantizedKvCache ref = cpuCache(cs.get(3));
            if (ref != null) {
                int kp = ref.stream(0, 0).keyPageCount();
                int vp = ref.stream(0, 0).valuePageCount();
                long bytes = gs.get(3).kvBytes();
                check(gs.get(3).length() == cs.get(3).length() && bytes > 0,
                        "cuda " + what + ": sequence of " + gs.get(3).length() + " tokens holds " + kp + " key / " + vp
                                + " value pages on the CPU, " + bytes + " device bytes");
            }
            variantsAgree(gpu, gs, ckpt.config().numLayers(), what);
            for (SequenceState q : gs) {
                q.release();
            }
        }
    }

    /**
     * Every attention kernel variant over the same pages and queries (the sequences as the
     * decode steps left them, every layer) gives the engine's kernel's output within float noise.
     */
    private static void variantsAgree(CudaBackend gpu, List<SequenceState> seqs, int layers, String what) {
        KittyAttentionProbe probe = gpu.kittyAttentionProbe(seqs, 17);
        KittyAttentionVariant engine = probe.variant();
        for (KittyAttentionVariant v : KittyAttentionVariant.values()) {
            if (v == engine) {
                continue;
            }
            double worst = 0;
            for (int l = 0; l < layers; l++) {
                probe.select(engine);
                float[] want = probe.output(l);
                probe.select(v);
                worst = Math.max(worst, maxRelDiff(probe.output(l), want));
            }
            check(worst < VARIANT_BOUND, String.format(Locale.ROOT, "cuda %s: attention kernels %s and %s agree over %d sequences,"
                    + " every layer: max |diff| / max |out| %.2e", what, v.configName(), engine.configName(), seqs.size(), worst));
        }
        probe.select(engine);
    }

    /** max |a - b| / max |b|; infinite if a value is not finite. */
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

    /** The CPU sequence's quantized cache, when its state exposes one. */
    private static QuantizedKvCache cpuCache(SequenceState s) {
        try {
            java.lang.reflect.Method m = s.getClass().getDeclaredMethod("cache");
            m.setAccessible(true);
            Object c = m.invoke(s);
            return c instanceof QuantizedKvCache q ? q : null;
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /**
     * A 300-token prompt in one step: its key pages 0..1 and value page 0 (every kv head of the
     * last layer) read back from the device equal the Java layouts' bytes over the same fp16
     * inputs (the staging rows the quantize kernels read).
     */
    private static void pageBytes(Checkpoint ckpt, KvSettings kv) {
        int len = 300;
        CudaSettings s = new CudaSettings(0, 2, 512, 256L << 20, 0.9, Precision.SPLIT, kv);
        QuantConfig qc = kv.quantConfig();
        int d = ckpt.config().headDim();
        int kvHeads = ckpt.config().numKvHeads();
        int kvw = kvHeads * d;
        int layer = ckpt.config().numLayers() - 1;
        KeyPageLayout kl = qc.keyLayout(d);
        ValuePageLayout vl = qc.valueLayout(d);
        try (CudaBackend gpu = CudaBackend.open(ckpt, s)) {
            SequenceState q = gpu.newSequence(kv, len + 1);
            gpu.forward(List.of(new ForwardInput(q, new SplittableRandom(9).ints(len, 1, ckpt.config().vocabSize()).toArray(), false)));
            float[] keys = gpu.kittyStaged(q, len, false);
            float[] values = gpu.kittyStaged(q, len, true);
            int same = 0;
            int total = 0;
            for (int h = 0; h < kvHeads; h++) {
                for (int p = 0; p < KittyFlush.keyPages(qc, len); p++) {
                    byte[] want = new byte[kl.bytes()];
                    kl.quantize(keys, (int) KittyFlush.pageStart(qc, p) * kvw + h * d, kvw, want, 0);
                    same += Arrays.equals(want, gpu.kittyKeyPage(q, layer, p, h)) ? 1 : 0;
                    total++;
                }
                for (int p = 0; p < KittyFlush.valuePages(qc, len); p++) {
                    byte[] want = new byte[vl.bytes()];
                    vl.quantize(values, (int) KittyFlush.pageStart(qc, p) * kvw + h * d, kvw, want, 0);
                    same += Arrays.equals(want, gpu.kittyValuePage(q, layer, p, h)) ? 1 : 0;
                    total++;
                }
            }
            check(total > 0 && same == total, "cuda " + name(ckpt) + " " + kv.describe() + ": " + same + "/" + total
                    + " key+value pages of a 300-token prompt byte-identical to kvquant's layouts over the same fp16 inputs");
            q.release();
        }
    }

    /** Logit agreement of two backends: max |diff|, argmax agreement, KL(cpu || cuda) per row. */
    static final class Stats {
        double maxDiff;
        double maxAbs;
        double klMax;
        double klSum;
        long rows;
        long agree;

        void add(float[] a, float[] b, int vocab) {
            for (int r = 0; r < a.length / vocab; r++) {
                rows++;
                if (LogitMath.argmax(a, r * vocab, vocab) == LogitMath.argmax(b, r * vocab, vocab)) {
                    agree++;
                }
                double kl = kl(a, b, r * vocab, vocab);
                klMax = Math.max(klMax, kl);
                klSum += kl;
            }
            for (int i = 0; i < a.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                maxAbs = Math.max(maxAbs, Math.abs(a[i]));
                if (!Float.isFinite(b[i])) {
                    maxDiff = Double.POSITIVE_INFINITY;
                    klMax = Double.POSITIVE_INFINITY;
                }
            }
        }

        static double kl(float[] p, float[] q, int off, int n) {
            double mp = Double.NEGATIVE_INFINITY;
            double mq = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                mp = Math.max(mp, p[off + i]);
                mq = Math.max(mq, q[off + i]);
            }
            double zp = 0;
            double zq = 0;
            for (int i = 0; i < n; i++) {
                zp += Math.exp(p[off + i] - mp);
                zq += Math.exp(q[off + i] - mq);
            }
            double lzp = mp + Math.log(zp);
            double lzq = mq + Math.log(zq);
            double kl = 0;
            for (int i = 0; i < n; i++) {
                double lp = p[off + i] - lzp;
                double lq = q[off + i] - lzq;
                kl += Math.exp(lp) * (lp - lq);
            }
            return Math.max(0, kl);
        }

        double agreement() {
            return rows == 0 ? 0 : (double) agree / rows;
        }

        double klMean() {
            return rows == 0 ? 0 : klSum / rows;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "max|diff| %.3e (max|logit| %.2f), argmax %d/%d, KL max %.2e mean %.2e", maxDiff,
                    maxAbs, agree, rows, klMax, rows == 0 ? 0 : klSum / rows);
        }
    }
}
