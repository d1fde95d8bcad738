package kittyspark.checks.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.gemm.Cublas;
import kittyspark.runtime.backend.cuda.gemm.EventTimer;
import kittyspark.runtime.backend.cuda.gemm.Gemm;
import kittyspark.runtime.backend.cuda.gemm.GemmCandidates;
import kittyspark.runtime.backend.cuda.gemm.GemmPlan;
import kittyspark.runtime.backend.cuda.gemm.GemmSelector;
import kittyspark.runtime.backend.cuda.gemm.GemmTimer;
import kittyspark.runtime.checkpoint.SafetensorsWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The GPU check of every GEMM implementation (a main class: CI has no GPU): our kernels (with
 * and without the GEMV kernel) and, where the machine has them, cuBLASLt's heuristic candidates
 * and cublasGemmEx, each against a host fp64 reference, in split and plain bf16 precision, with
 * and without accumulation:
 * <ol>
 *   <li>the small shapes of {@link CudaSelfTest} (partial tiles, odd N), every entry checked;</li>
 *   <li>the layer and LM-head shapes of the named models at M = 1, 8, 16, 64, 256, 2048, on
 *   sampled rows and columns (and every column of those rows must be finite: the output is
 *   poisoned with NaN first).</li>
 * </ol>
 * With {@code --bench}, then times each implementation on the model shapes (plain bf16, weights
 * cycled through copies larger than L2, launches enqueued behind a spin kernel) and prints, per
 * shape, implementation, ms, TFLOP/s, GB/s and the {@link GemmSelector}'s choice; {@code --json}
 * writes it all. Exit 0 when every check passed.
 */
@Command(name = "gemm-check", mixinStandardHelpOptions = true,
        description = "Checks every GEMM implementation (ours, cuBLASLt, cublasGemmEx) against an fp64 host reference; "
                + "--bench also times them per shape and prints the selector's choice.")
public final class GemmCheck implements Callable<Integer> {
    /**
     * Relative error allowed at inner dimension k: bf16 products are exact in fp32, so only fp32
     * summation differs from the fp64 reference, and that error grows like sqrt(k) (cuBLAS
     * itself measures 1.6e-5 at k = 14336 on the H200); split precision adds the lo plane's
     * rounding, of the same order.
     */
    static double tolerance(int k) {
        return Math.max(1e-5, 3e-7 * Math.sqrt(k));
    }
    /** The decode kernel's split-K planes: MAX_SPLITS x 256 rows x the widest layer GEMM (as the backend sizes them). */
    static final long PARTIAL_FLOATS = (long) GemmPlan.MAX_SPLITS * GemmPlan.DECODE_MAX_M * 28672;
    /** Weight copies cycled through in the benchmark add up to at least this (L2 is 50 MB). */
    static final long ROTATION_BYTES = 256L << 20;
    static final int SAMPLE_ROWS = 16;
    static final int SAMPLE_COLS = 64;

    @Option(names = "--bench", description = "Also time every implementation per shape and print the selector's choice.")
    boolean bench;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the checks (and the benchmark) as JSON here.")
    Path json;

    @Option(names = "--models", split = ",", defaultValue = "llama3-8b,qwen3-8b",
            description = "Model shapes whose GEMMs are checked (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--m", split = ",", defaultValue = "1,8,16,64,256,2048", description = "M of the model shapes (default: ${DEFAULT-VALUE}).")
    List<Integer> ms;

    @Option(names = "--require-cublas", description = "Fail when cuBLAS does not load (on the GPU machine it must).")
    boolean requireCublas;

    @Option(names = "--device", defaultValue = "0", description = "CUDA device ordinal (default: ${DEFAULT-VALUE}).")
    int device;

    private final ObjectNode out = JsonNodeFactory.instance.objectNode();
    private final ArrayNode checks = out.putArray("checks");
    private int passed;
    private final List<String> failures = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new GemmCheck()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        out.put("commit", commit());
        List<GemmShapes.Shape> shapes = GemmShapes.of(models);
        int maxM = ms.stream().mapToInt(Integer::intValue).max().orElse(1);
        try {
            runChecks(shapes, maxM);
        } catch (RuntimeException e) {
            // A driver error leaves the context unusable: record it, keep what was measured.
            e.printStackTrace(System.out);
            failures.add("aborted: " + e);
        }
        out.put("passed", passed).put("failed", failures.size());
        out.putPOJO("failures", failures);
        if (json != null) {
            if (json.toAbsolutePath().getParent() != null) {
                Files.createDirectories(json.toAbsolutePath().getParent());
            }
            Files.writeString(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
            System.out.println("wrote " + json);
        }
        System.out.println(failures.isEmpty() ? "GemmCheck: ALL PASSED (" + passed + ")"
                : "GemmCheck: " + failures.size() + " FAILED of " + (passed + failures.size()));
        return failures.isEmpty() ? 0 : 1;
    }

    private void runChecks(List<GemmShapes.Shape> shapes, int maxM) {
        try (CudaContext ctx = new CudaContext(device); DeviceMemory mem = new DeviceMemory()) {
            Kernels k = new Kernels(ctx.stream());
            out.put("gpu", ctx.name());
            CUdeviceptr partial = mem.alloc(4 * PARTIAL_FLOATS);
            CUdeviceptr workspace = mem.alloc(Cublas.WORKSPACE_BYTES);
            try (GemmCandidates plain = GemmCandidates.open(ctx, k, false, partial, PARTIAL_FLOATS, workspace,
                    Cublas.WORKSPACE_BYTES, true);
                 GemmCandidates split = GemmCandidates.open(ctx, k, true, partial, PARTIAL_FLOATS, workspace,
                         Cublas.WORKSPACE_BYTES, true);
                 EventTimer events = new EventTimer(k, ctx.stream())) {
                System.out.println("device: " + ctx.name() + "; GEMM implementations: " + plain.summary());
                out.put("implementations", plain.summary());
                if (requireCublas) {
                    check(plain.cublas(), "cuBLAS loads on this machine (" + plain.summary() + ")");
                }
                for (GemmCandidates c : List.of(split, plain)) {
                    smallShapes(ctx, c.all(), c == split);
                }
                int maxK = shapes.stream().mapToInt(GemmShapes.Shape::k).max().orElse(1);
                int maxN = shapes.stream().mapToInt(GemmShapes.Shape::n).max().orElse(1);
                Operands op = Operands.make(k, mem, maxM, maxK, maxN);
                modelShapes(ctx, k, op, shapes, plain.all(), split.all());
                if (bench) {
                    bench(ctx, k, op, events, shapes, maxM, plain.all());
                }
            }
        }
    }

    private void check(boolean ok, String what) {
        System.out.println((ok ? "PASS " : "FAIL ") + what);
        if (ok) {
            passed++;
        } else {
            failures.add(what);
        }
    }

    // ------------------------------------------------------------------ small shapes

    /** CudaSelfTest's shapes with host-made operands; every output entry against the reference. */
    private void smallShapes(CudaContext ctx, List<Gemm> gemms, boolean split) {
        SplittableRandom rnd = new SplittableRandom(split ? 2 : 3);
        try (DeviceMemory mem = new DeviceMemory()) {
            for (int[] s : CudaSelfTest.GEMM_SHAPES) {
                int m = s[0], n = s[1], kk = s[2];
                short[][] hi = new short[m][kk];
                short[][] lo = new short[m][kk];
                for (int r = 0; r < m; r++) {
                    for (int i = 0; i < kk; i++) {
                        float a = (float) (rnd.nextDouble() * 2 - 1);
                        hi[r][i] = SafetensorsWriter.toBf16(a);
                        lo[r][i] = SafetensorsWriter.toBf16(a - SampledReference.bf16(hi[r][i]));
                    }
                }
                short[][] w = new short[n][kk];
                for (short[] row : w) {
                    for (int i = 0; i < kk; i++) {
                        row[i] = SafetensorsWriter.toBf16((float) ((rnd.nextDouble() * 2 - 1) * 0.1));
                    }
                }
                CUdeviceptr dh = mem.upload(hi), dl = mem.upload(lo), dw = mem.upload(w), dout = mem.alloc(4L * m * n);
                int[] rows = SampledReference.sample(m, m, 0, rnd);
                int[] cols = SampledReference.sample(n, n, 0, rnd);
                for (boolean acc : new boolean[] {false, true}) {
                    double[][] ref = SampledReference.compute(hi, split ? lo : null, w, acc ? 0.25 : 0);
                    for (Gemm g : gemms) {
                        if (g.supports(m, n, kk)) {
                            double err = runAndCompare(ctx, g, dh, split ? dl : null, dw, dout, m, n, kk, acc, rows, cols, ref);
                            record("small", g, m, n, kk, split, acc, err);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ model shapes

    private void modelShapes(CudaContext ctx, Kernels k, Operands op, List<GemmShapes.Shape> shapes, List<Gemm> plain,
                             List<Gemm> split) {
        SplittableRandom rnd = new SplittableRandom(5);
        for (GemmShapes.Shape s : shapes) {
            try (DeviceMemory wmem = new DeviceMemory()) {
                CUdeviceptr w = wmem.alloc(s.weightBytes());
                fillBf16(k, w, (long) s.n() * s.k(), 100 + s.n(), 0.02f);
                int[] cols = SampledReference.sample(s.n(), SAMPLE_COLS, 8, rnd);
                short[][] wRows = downloadRows(w, cols, s.k());
                for (int m : ms) {
                    int[] rows = SampledReference.sample(m, SAMPLE_ROWS, 1, rnd);
                    short[][] hi = downloadRows(op.hi(), rows, s.k());
                    short[][] lo = downloadRows(op.lo(), rows, s.k());
                    for (boolean isSplit : new boolean[] {false, true}) {
                        for (boolean acc : new boolean[] {false, true}) {
                            double[][] ref = SampledReference.compute(hi, isSplit ? lo : null, wRows, acc ? 0.25 : 0);
                            for (Gemm g : isSplit ? split : plain) {
                                if (g.supports(m, s.n(), s.k())) {
                                    double err = runAndCompare(ctx, g, op.hi(), isSplit ? op.lo() : null, w, op.out(), m, s.n(),
                                            s.k(), acc, rows, cols, ref);
                                    record(s.users(), g, m, s.n(), s.k(), isSplit, acc, err);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Poisons (NaN) or initialises (0.25) out, runs, and compares the sampled rows with the
     * reference; an implementation that refuses the call (a cuBLAS status) scores infinity. A
     * driver error is not caught: the context is gone.
     */
    private static double runAndCompare(CudaContext ctx, Gemm g, CUdeviceptr hi, CUdeviceptr lo, CUdeviceptr w, CUdeviceptr out,
                                        int m, int n, int k, boolean acc, int[] rows, int[] cols, double[][] ref) {
        JCudaDriver.cuMemsetD32Async(out, Float.floatToRawIntBits(acc ? 0.25f : Float.NaN), (long) m * n, ctx.stream());
        try {
            g.run(hi, lo, w, out, m, n, k, acc);
        } catch (jcuda.CudaException e) {
            throw e;
        } catch (RuntimeException e) {
            System.out.println("  " + g.describe(m, n, k) + " refused " + m + "x" + n + "x" + k + ": " + e.getMessage());
            return Double.POSITIVE_INFINITY;
        }
        ctx.synchronize();
        float[][] got = new float[rows.length][n];
        for (int r = 0; r < rows.length; r++) {
            JCudaDriver.cuMemcpyDtoH(Pointer.to(got[r]), out.withByteOffset(4L * rows[r] * n), 4L * n);
        }
        return SampledReference.relativeError(got, cols, ref);
    }

    private void record(String shapes, Gemm g, int m, int n, int k, boolean split, boolean acc, double err) {
        String impl = g.describe(m, n, k);
        checks.addObject().put("shapes", shapes).put("m", m).put("n", n).put("k", k).put("implementation", impl)
                .put("precision", split ? "split" : "bf16").put("accumulate", acc).put("rel_err", err);
        check(err < tolerance(k), String.format(Locale.ROOT, "%s M=%d N=%d K=%d %s%s (%s): rel err %.2e (< %.1e)", impl, m, n, k,
                split ? "split" : "bf16", acc ? " +=" : "", shapes, err, tolerance(k)));
    }

    // ------------------------------------------------------------------ benchmark

    private void bench(CudaContext ctx, Kernels k, Operands op, EventTimer events, List<GemmShapes.Shape> shapes, int maxM,
                       List<Gemm> plain) {
        double copyGbs = copyBandwidth(ctx, events);
        out.put("copy_gbs", copyGbs);
        System.out.printf(Locale.ROOT, "%ndevice copy %.0f GB/s (read + write)%n%n", copyGbs);
        System.out.println("| GEMM | M | N | K | implementation | ms | TFLOP/s | GB/s | % of copy | chosen |");
        System.out.println("|---|---:|---:|---:|---|---:|---:|---:|---:|---|");
        ArrayNode rows = out.putArray("bench");
        ObjectNode impl = out.putObject("gemm_impl");
        for (GemmShapes.Shape s : shapes) {
            try (DeviceMemory wmem = new DeviceMemory()) {
                int copies = (int) Math.max(1, Math.min(8, (ROTATION_BYTES + s.weightBytes() - 1) / s.weightBytes()));
                List<CUdeviceptr> w = new ArrayList<>();
                for (int c = 0; c < copies; c++) {
                    w.add(wmem.alloc(s.weightBytes()));
                    fillBf16(k, w.get(c), (long) s.n() * s.k(), 200 + c, 0.02f);
                }
                for (int m : ms) {
                    Map<String, Double> measured = new HashMap<>();
                    Set<String> seen = new HashSet<>();
                    List<ObjectNode> shapeRows = new ArrayList<>();
                    for (Gemm g : plain) {
                        String name = g.describe(m, s.n(), s.k());
                        if (!g.supports(m, s.n(), s.k()) || !seen.add(name)) {
                            continue;
                        }
                        double t = events.millisPerCall(i -> g.run(op.hi(), null, w.get(i % copies), op.out(), m, s.n(), s.k(), false),
                                5, 5.0, 64);
                        measured.put(name, t);
                        double flops = 2.0 * m * s.n() * s.k();
                        double bytes = s.weightBytes() + 2.0 * m * s.k() + 4.0 * m * s.n();
                        shapeRows.add(rows.addObject().put("gemm", s.users()).put("m", m).put("n", s.n()).put("k", s.k())
                                .put("implementation", name).put("ms", t).put("tflops", flops / (t * 1e9))
                                .put("gbs", bytes / (t * 1e6)).put("pct_of_copy", 100 * bytes / (t * 1e6) / copyGbs));
                    }
                    // The selector's choice on the same figures (its margin and order of preference decide ties).
                    GemmTimer sameFigures = (g, mm, n, kk) -> measured.get(g.describe(mm, n, kk));
                    String chosen = new GemmSelector(plain, sameFigures, maxM).choice(m, s.n(), s.k()).implementation();
                    impl.put(s.name() + " " + s.n() + "x" + s.k() + " M=" + m, chosen);
                    for (ObjectNode r : shapeRows) {
                        boolean isChosen = r.get("implementation").asText().equals(chosen);
                        r.put("chosen", isChosen);
                        System.out.printf(Locale.ROOT, "| %s | %d | %d | %d | %s | %.4f | %.1f | %.0f | %.0f%% | %s |%n", s.name(), m,
                                s.n(), s.k(), r.get("implementation").asText(), r.get("ms").asDouble(), r.get("tflops").asDouble(),
                                r.get("gbs").asDouble(), r.get("pct_of_copy").asDouble(), isChosen ? "**chosen**" : "");
                    }
                }
            }
        }
    }

    private static double copyBandwidth(CudaContext ctx, EventTimer events) {
        long bytes = 1L << 30;
        try (DeviceMemory mem = new DeviceMemory()) {
            CUdeviceptr a = mem.alloc(bytes);
            CUdeviceptr b = mem.alloc(bytes);
            JCudaDriver.cuMemsetD8(a, (byte) 1, bytes);
            double ms = events.millisPerCall(i -> JCudaDriver.cuMemcpyDtoDAsync(b, a, bytes, ctx.stream()), 5, 10.0, 8);
            return 2.0 * bytes / (ms * 1e6);
        }
    }

    // ------------------------------------------------------------------ device data

    /** The operand planes (bf16 hi in [-1, 1], a small lo) and the output, for the largest shape. */
    private record Operands(CUdeviceptr hi, CUdeviceptr lo, CUdeviceptr out) {
        static Operands make(Kernels k, DeviceMemory mem, int maxM, int maxK, int maxN) {
            long elems = (long) maxM * maxK;
            Operands o = new Operands(mem.alloc(2 * elems), mem.alloc(2 * elems), mem.alloc(4L * maxM * maxN));
            fillBf16(k, o.hi(), elems, 1, 0.577f);
            fillBf16(k, o.lo(), elems, 2, 0.002f);
            return o;
        }
    }

    private static void fillBf16(Kernels k, CUdeviceptr p, long elems, long seed, float std) {
        k.launch("fill_bf16_uniform", 1024, 1, 256, 0, new KernelArgs().ptr(p).i64(elems).i64(seed).f32(0f).f32(std));
    }

    /** Rows {@code rows} of a bf16 [*, k] matrix, to the host. */
    private static short[][] downloadRows(CUdeviceptr p, int[] rows, int k) {
        JCudaDriver.cuCtxSynchronize();
        short[][] h = new short[rows.length][k];
        for (int i = 0; i < rows.length; i++) {
            JCudaDriver.cuMemcpyDtoH(Pointer.to(h[i]), p.withByteOffset(2L * rows[i] * k), 2L * k);
        }
        return h;
    }

    /** Device allocations freed together. */
    private static final class DeviceMemory implements AutoCloseable {
        private final List<CUdeviceptr> all = new ArrayList<>();

        CUdeviceptr alloc(long bytes) {
            CUdeviceptr p = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(p, Math.max(bytes, 256));
            all.add(p);
            return p;
        }

        CUdeviceptr upload(short[][] rows) {
            int k = rows.length == 0 ? 0 : rows[0].length;
            short[] flat = new short[rows.length * k];
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(rows[r], 0, flat, r * k, k);
            }
            CUdeviceptr p = alloc(2L * flat.length);
            JCudaDriver.cuMemcpyHtoD(p, Pointer.to(flat), 2L * flat.length);
            return p;
        }

        @Override
        public void close() {
            JCudaDriver.cuCtxSynchronize();
            for (CUdeviceptr p : all) {
                JCudaDriver.cuMemFree(p);
            }
            all.clear();
        }
    }

    /** The commit the kit was built from (its COMMIT file), or "unknown". */
    private static String commit() {
        Path f = Path.of(System.getProperty("kitty.home", "."), ".devbundle", "kit", "COMMIT");
        try {
            return Files.isRegularFile(f) ? Files.readString(f).trim() : "unknown";
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
