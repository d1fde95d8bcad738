package kittyspark.runtime.backend.cuda;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jcuda.driver.CUdeviceptr;
import kittyspark.kvquant.ChannelBoost;
import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.StepCapacity;
import kittyspark.runtime.backend.cuda.attention.Fp16PagedCache;
import kittyspark.runtime.backend.cuda.attention.PagedAttention;
import kittyspark.runtime.backend.cuda.attention.StepAttention;
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.DeviceArena;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.driver.LaunchProfile;
import kittyspark.runtime.backend.cuda.driver.StepGraphs;
import kittyspark.runtime.backend.cuda.gemm.Cublas;
import kittyspark.runtime.backend.cuda.gemm.DeviceGemmTimer;
import kittyspark.runtime.backend.cuda.gemm.EventTimer;
import kittyspark.runtime.backend.cuda.gemm.GemmCandidates;
import kittyspark.runtime.backend.cuda.gemm.GemmPlan;
import kittyspark.runtime.backend.cuda.gemm.GemmSelector;
import kittyspark.runtime.backend.cuda.kitty.KittyAttentionProbe;
import kittyspark.runtime.backend.cuda.kitty.KittyCache;
import kittyspark.runtime.backend.cuda.kitty.KittyKernels;
import kittyspark.runtime.backend.cuda.kitty.KittyMemoryPlan;
import kittyspark.runtime.backend.cuda.kitty.KittyStepAttention;
import kittyspark.runtime.backend.cuda.pages.PagePool;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transformer on an NVIDIA GPU: JCuda's driver API and the project's own kernels (PTX
 * from src/main/cuda). fp32 residual stream; bf16 weights on the tensor cores (split or bf16
 * operand precision, see {@link Precision}); the KV cache as fp16 pages or Kitty pages. This
 * class is the {@link Backend}: it owns the sequences and turns a step's inputs into one
 * {@link LayerLoop} run over the right {@link StepAttention}. {@link #forward} returns host
 * logits (scoring, tests); {@link #forwardAndSample} samples on the device.
 *
 * <p>Thread-safe by serialization: every call binds the device's primary context to the
 * calling thread and runs under the backend's lock.
 */
public final class CudaBackend implements Backend {
    private long lastStepHostNanos;
    private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);
    public static final int PAGE_TOKENS = Fp16PagedCache.PAGE_TOKENS;
    public static final int SAMPLE_THREADS = DeviceSampler.THREADS;
    /** Share of the free memory a quantized mode's pool takes when it is first used (not the sized-for mode). */
    static final double LATE_POOL_FRACTION = 0.5;
    /** Step graphs kept: a few batch sizes times the work-item counts their contexts pass through. */
    static final int GRAPHS_KEPT = 32;

    private final ModelConfig c;
    private final CudaSettings settings;
    private final String device;
    private final CudaContext ctx;
    private final Kernels k;
    private final DeviceArena arena;
    private final DeviceModel w;
    private final boolean split;
    private final int vocab;
    private final DeviceBudget budget;
    private final StepBuffers b;
    private final PagedAttention attention;
    private final Fp16PagedCache fp16;
    private final GemmCandidates gemms;
    private final GemmSelector gemm;
    private final LayerLoop loop;
    private final DeviceSampler sampler;
    /** Replays steps of a shape seen before; null when the settings turn CUDA graphs off. */
    private final StepGraphs graphs;
    private boolean graphsInUse = true;
    /** Quantized-page caches by KV mode: the sized-for one made at start-up, others on first use. */
    private final Map<KvSettings, KittyCache> kitty = new LinkedHashMap<>();
    private boolean closed;

    /** Builds the model's weights into the arena. */
    private interface ModelSource {
        DeviceModel build(DeviceArena arena, Kernels kernels);
    }

    public static CudaBackend open(Checkpoint ckpt, CudaSettings s) {
        return new CudaBackend(ckpt.config(), s, (arena, kernels) -> DeviceModel.upload(ckpt, arena));
    }

    /** A model of {@code c}'s shape with seeded random bf16 weights generated on the device. */
    public static CudaBackend synthetic(ModelConfig c, long seed, CudaSettings s) {
        return new CudaBackend(c, s, (arena, kernels) -> DeviceModel.synthetic(c, seed, arena, kernels));
    }

    private CudaBackend(ModelConfig c, CudaSettings s, ModelSource source) {
        this.c = c;
        this.settings = s;
        this.device = "cuda:" + s.ordinal();
        this.vocab = c.vocabSize();
        this.split = s.precision() == Precision.SPLIT;
        int qw = c.numHeads() * c.headDim();
        for (int dim : new int[] {c.hiddenSize(), qw, c.intermediateSize()}) {
            if (dim % GemmPlan.TILE_K != 0) {
                throw new IllegalArgumentException("the CUDA kernels need hidden, heads*head_dim and intermediate sizes that are multiples of "
                        + GemmPlan.TILE_K + "; this model has " + c.hiddenSize() + ", " + qw + ", " + c.intermediateSize());
            }
        }
        String shapeProblem = PagedAttention.unsupported(c);
        if (shapeProblem != null) {
            throw new IllegalArgumentException(shapeProblem);
        }
        boolean quantized = s.kv().quantized();
        if (quantized && unsupported(s.kv()) != null) {
            throw new IllegalArgumentException(unsupported(s.kv()));
        }
        this.ctx = new CudaContext(s.ordinal());
        try {
            this.k = new Kernels(ctx.stream());
            long free = ctx.memInfo()[0];
            this.budget = DeviceBudget.plan(c, s, free);
            if (budget.fp16Pages() < 1 && !quantized) {
                throw new IllegalStateException(device + ": no room for a KV cache: " + gib(free) + " free, weights "
                        + gib(budget.weightBytes()) + ", workspace " + gib(budget.workBytes()));
            }
            this.arena = new DeviceArena(budget.arenaBytes());
            this.w = source.build(arena, k);
            this.b = new StepBuffers(c, budget, arena);
            this.attention = new PagedAttention(c, k, split, 4 * ctx.multiprocessors(), budget.partialRows(), b.partO, b.partMl);
            this.fp16 = new Fp16PagedCache(c, arena, budget.fp16Pages(), attention);
            this.gemms = GemmCandidates.open(ctx, k, split, b.splitK, budget.splitKFloats(), b.cublasWorkspace,
                    Cublas.WORKSPACE_BYTES, s.cublas());
            this.gemm = planGemms();
            this.loop = new LayerLoop(c, w, k, gemm, b, split);
            this.sampler = new DeviceSampler(ctx, k, b, vocab);
            this.graphs = s.cudaGraphs() ? new StepGraphs(StepGraphs.cuda(ctx.stream()), k.counter(), GRAPHS_KEPT) : null;
            ctx.synchronize();
            logStart(quantized);
        } catch (RuntimeException | Error e) {
            for (KittyCache kc : kitty.values()) {
                kc.close();
            }
            ctx.close();
            throw e;
        }
    }

    /**
     * Times every GEMM implementation on the model's five GEMM shapes, per M bucket up to the
     * step's rows, on the model's own weights (so weights stream from HBM as in a step), and
     * keeps the fastest of each; logs the choices once.
     */
    private GemmSelector planGemms() {
        int hidden = c.hiddenSize();
        int qw = c.numHeads() * c.headDim();
        int qkvw = qw + 2 * c.numKvHeads() * c.headDim();
        int inter = c.intermediateSize();
        int rows = budget.stepRows();
        List<CUdeviceptr> qkv = new ArrayList<>();
        List<CUdeviceptr> o = new ArrayList<>();
        List<CUdeviceptr> gateUp = new ArrayList<>();
        List<CUdeviceptr> down = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            DeviceModel.Layer lw = w.layer(l);
            qkv.add(lw.qkv());
            o.add(lw.o());
            gateUp.add(lw.gateUp());
            down.add(lw.down());
        }
        DeviceGemmTimer timer = new DeviceGemmTimer(new EventTimer(k, ctx.stream()), b.ah, split ? b.al : null)
                .shape(qkvw, hidden, qkv, b.qkv).shape(hidden, qw, o, b.x).shape(2 * inter, hidden, gateUp, b.gu)
                .shape(hidden, inter, down, b.x).shape(vocab, hidden, List.of(w.lmHead()), b.logits);
        GemmSelector s = new GemmSelector(gemms.all(), timer, rows);
        long t0 = System.nanoTime();
        s.prepare(qkvw, hidden, rows);
        s.prepare(hidden, qw, rows);
        s.prepare(2 * inter, hidden, rows);
        s.prepare(hidden, inter, rows);
        s.prepare(vocab, hidden, Math.min(rows, budget.logitRowsDev()));
        ctx.synchronize();
        LOG.info(String.format(Locale.ROOT, "%s: GEMMs from %s; planned %d shape buckets in %.1f s", device, gemms.summary(),
                s.choices().size(), (System.nanoTime() - t0) / 1e9));
        for (GemmSelector.Choice ch : s.choices()) {
            LOG.debug("{}: {}", device, ch.summary());
        }
        return s;
    }

    private void logStart(boolean quantized) {
        PagePool pool = fp16.pool();
        long ref = settings.referenceTokens();
        long seqs = pool.maxSequencesOf(ref);
        String pools;
        if (quantized) {
            KittyCache kc = openKitty(settings.kv(), budget.quantizedBytes());
            seqs = kc.maxSequences(ref);
            pools = String.format(Locale.ROOT, "KV pool %s: %d key + %d value pages of %d tokens, %d fp16 tail slots (%s),"
                            + " fp16 side pool %d pages x %d tokens (%s)", settings.kv().describe(), kc.sizing.keyPages(),
                    kc.sizing.valuePages(), kc.config.pageSize(), kc.sizing.slots(), gib(kc.bytes()), pool.totalPages(),
                    PAGE_TOKENS, gib(budget.fp16Bytes()));
        } else {
            pools = String.format(Locale.ROOT, "KV pool %d pages x %d tokens = %d tokens (%s fp16)", pool.totalPages(),
                    PAGE_TOKENS, pool.totalTokens(), gib(budget.fp16Bytes()));
        }
        LOG.info(String.format(Locale.ROOT, "%s (%s, %d SMs): weights %s bf16, workspace %s for %d tokens/step, %s GEMM operands;"
                        + " %s, max concurrent sequences at %d tokens: %d",
                device, ctx.name(), ctx.multiprocessors(), gib(budget.weightBytes()), gib(budget.workBytes()),
                budget.stepRows(), split ? "split bf16 (hi+lo)" : "bf16", pools, ref, seqs));
    }

    /** Makes the quantized-page cache of {@code kv} with {@code budgetBytes} of device memory. */
    private KittyCache openKitty(KvSettings kv, long budgetBytes) {
        for (String m : KittyKernels.MODULES) {
            k.load(m);
        }
        KittyCache kc = new KittyCache(c, kv, budgetBytes, settings.referenceTokens(), settings.maxBatch(),
                budget.stepRows(), ctx, k, settings.kittyAttention());
        kitty.put(kv, kc);
        return kc;
    }

    /** The cache of a quantized mode; a mode other than the sized-for one gets a pool from free memory on first use. */
    private KittyCache kittyCache(KvSettings kv) {
        KittyCache kc = kitty.get(kv);
        if (kc != null) {
            return kc;
        }
        String problem = unsupported(kv);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        ctx.makeCurrent();
        long free = ctx.memInfo()[0] - DeviceBudget.DEVICE_RESERVE_BYTES;
        long bytes = (long) (LATE_POOL_FRACTION * Math.max(0, free));
        if (settings.kvBudgetBytes() > 0) {
            bytes = Math.min(bytes, settings.kvBudgetBytes());
        }
        KittyCache made = openKitty(kv, bytes);
        LOG.info(String.format(Locale.ROOT, "%s: KV pool for %s made on first use: %d key + %d value pages, %d tail slots (%s),"
                        + " max concurrent sequences at %d tokens: %d", device, kv.describe(), made.sizing.keyPages(),
                made.sizing.valuePages(), made.sizing.slots(), gib(made.bytes()), settings.referenceTokens(),
                made.maxSequences(settings.referenceTokens())));
        return made;
    }

    /**
     * Host time of the last {@link #forwardAndSample} up to the moment every layer's work was
     * enqueued (before sampling waits for the device): when it is close to the whole step, the
     * step is bound by the host's launches, not by the GPU.
     */
    /** How the steps were enqueued: CUDA graphs captured and replayed, or why not. */
    public synchronized String graphSummary() {
        if (graphs == null) {
            return "CUDA graphs off (kitty.engine.cuda.cuda-graphs = false)";
        }
        return graphs.off() ? "CUDA graphs off after a failed capture (see the log)"
                : "CUDA graphs: " + graphs.captures() + " captured, " + graphs.replays() + " replays";
    }

    public synchronized long lastStepHostNanos() {
        return lastStepHostNanos;
    }

    /** Max concurrent sequences of {@code tokens} each that the pool of mode {@code kv} holds. */
    @Override
    public synchronized long maxSequences(KvSettings kv, long tokens) {
        return kv.quantized() ? kittyCache(kv).maxSequences(tokens) : fp16.pool().maxSequencesOf(tokens);
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    @Override
    public ModelConfig config() {
        return c;
    }

    @Override
    public String device() {
        return device;
    }

    public PagePool pagePool() {
        return fp16.pool();
    }

    public CudaContext context() {
        return ctx;
    }

    public Kernels kernels() {
        return k;
    }

    public CudaSettings settings() {
        return settings;
    }

    public DeviceBudget budget() {
        return budget;
    }

    /** The GEMM implementation the layers use (benchmarks print its choice per shape). */
    public GemmSelector gemm() {
        return gemm;
    }

    @Override
    public String unsupported(KvSettings kv) {
        if (!kv.quantized()) {
            return null;
        }
        int headDim = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        if (KittyCache.paddedGroup(group) == 0 || !KittyKernels.supported(headDim, KittyCache.paddedGroup(group))) {
            return "no Kitty attention kernel for head_dim " + headDim + " and GQA group " + group
                    + " (compiled: head_dim 64/128, groups up to 8); use --kv fp16";
        }
        if (kv.pageSize() != KittyKernels.PAGE_SIZE) {
            return "the Kitty kernels on the GPU use pages of " + KittyKernels.PAGE_SIZE + " tokens, not " + kv.pageSize();
        }
        int boosted = ChannelBoost.boostedChannels(kv.boostFraction(), headDim);
        if (boosted > headDim / 2) {
            return "the Kitty attention kernel boosts at most half the key channels (" + headDim / 2 + "), not " + boosted;
        }
        return null;
    }

    @Override
    public SequenceState newSequence(KvSettings kv) {
        return newSequence(kv, 0);
    }

    @Override
    public SequenceState newSequence(KvSettings kv, long worstCaseTokens) {
        String problem = unsupported(kv);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        if (kv.quantized()) {
            synchronized (this) {
                return new CudaSequence(this, null, kittyCache(kv).open(worstCaseTokens), 0);
            }
        }
        return new CudaSequence(this, fp16.pool().open(worstCaseTokens), null, fp16BytesPerToken());
    }

    private long fp16BytesPerToken() {
        return (long) c.numLayers() * c.numKvHeads() * c.headDim() * 2L * Short.BYTES;
    }

    @Override
    public boolean admits(long worstCaseTokens) {
        return fp16.pool().fits(worstCaseTokens);
    }

    @Override
    public synchronized boolean admits(KvSettings kv, long worstCaseTokens) {
        if (kv.quantized()) {
            return unsupported(kv) == null && kittyCache(kv).fits(worstCaseTokens);
        }
        return fp16.pool().fits(worstCaseTokens);
    }

    @Override
    public StepCapacity newStep() {
        return new CudaStepCapacity(budget.stepRows(), budget.logitRowsDev());
    }

    // ------------------------------------------------------------------------------------
    // forward

    /** What decides a step's launches, for {@link StepGraphs}. */
    private record StepKey(int rows, int logitRows, Object attention) {
    }

    /** A slice of one input fed in one step. */
    private record Piece(int input, CudaSequence seq, int[] tokens, int from, int n) {
    }

    @Override
    public synchronized List<float[]> forward(List<ForwardInput> batch) {
        ctx.makeCurrent();
        List<CudaSequence> seqs = sequencesOf(batch);
        List<float[]> out = new ArrayList<>(batch.size());
        for (ForwardInput in : batch) {
            out.add(new float[in.logitRows() * vocab]);
        }
        int[] fed = new int[batch.size()];
        while (true) {
            // Scoring steps are cut here, with the same capacity rule the scheduler uses. A Kitty
            // input is split only when it cannot fit a step alone: a later piece would see the
            // earlier one's quantized pages, where the CPU reference attends it in full precision.
            CudaStepCapacity cap = new CudaStepCapacity(budget.stepRows(), Integer.MAX_VALUE);
            List<Piece> pieces = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                int rem = batch.get(i).tokens().length - fed[i];
                if (rem <= 0) {
                    continue;
                }
                int take = cap.take(seqs.get(i), rem, false);
                if (take == 0 || (take < rem && seqs.get(i).kitty != null && !pieces.isEmpty())) {
                    break;
                }
                pieces.add(new Piece(i, seqs.get(i), batch.get(i).tokens(), fed[i], take));
            }
            if (pieces.isEmpty()) {
                for (int i = 0; i < batch.size(); i++) {
                    if (fed[i] < batch.get(i).tokens().length) {
                        throw new IllegalStateException("input " + i + " cannot be fed: " + cap.refusal(seqs.get(i)));
                    }
                }
                break;
            }
            // Which rows' logits are wanted, and where each goes.
            List<float[]> dest = new ArrayList<>();
            List<Integer> destOff = new ArrayList<>();
            int[] rows = new int[budget.stepRows()];
            int nRows = 0;
            int row0 = 0;
            for (Piece p : pieces) {
                ForwardInput in = batch.get(p.input());
                if (in.allLogits()) {
                    for (int t = 0; t < p.n(); t++) {
                        rows[nRows++] = row0 + t;
                        dest.add(out.get(p.input()));
                        destOff.add((p.from() + t) * vocab);
                    }
                } else if (p.from() + p.n() == in.tokens().length) {
                    rows[nRows++] = row0 + p.n() - 1;
                    dest.add(out.get(p.input()));
                    destOff.add(0);
                }
                row0 += p.n();
            }
            CUdeviceptr logitRows = runStep(pieces, rows, nRows);
            FloatBuffer stage = b.hostLogits.bytes().asFloatBuffer();
            for (int r0 = 0; r0 < nRows; r0 += budget.logitRowsHost()) {
                int rc = Math.min(budget.logitRowsHost(), nRows - r0);
                loop.logits(logitRows.withByteOffset(4L * r0), rc);
                b.hostLogits.fromDevice(b.logits, 4L * rc * vocab, ctx.stream());
                ctx.synchronize();
                for (int r = 0; r < rc; r++) {
                    stage.position(r * vocab);
                    stage.get(dest.get(r0 + r), destOff.get(r0 + r), vocab);
                }
            }
            for (Piece p : pieces) {
                fed[p.input()] += p.n();
            }
        }
        return out;
    }

    /**
     * One step, sampled on the device. The step must fit {@link #newStep()}'s capacity (the
     * scheduler builds it so): it is never split or sampled on the host, so a seeded request
     * draws the same Philox stream whatever else shares its step.
     */
    @Override
    public synchronized List<SampledToken> forwardAndSample(List<ForwardInput> batch, List<SampleSpec> samples) {
        long started = System.nanoTime();
        ctx.makeCurrent();
        List<CudaSequence> seqs = sequencesOf(batch);
        CudaStepCapacity cap = new CudaStepCapacity(budget.stepRows(), budget.logitRowsDev());
        List<Piece> pieces = new ArrayList<>(batch.size());
        int[] rows = new int[batch.size()];
        int[] rowOf = new int[batch.size()];
        List<SampleSpec> specs = new ArrayList<>();
        int row0 = 0;
        for (int i = 0; i < batch.size(); i++) {
            int[] toks = batch.get(i).tokens();
            SampleSpec s = samples.get(i);
            if (cap.take(seqs.get(i), toks.length, s != null) != toks.length) {
                throw new IllegalArgumentException("the step does not fit this backend's step capacity at input " + i + ": "
                        + cap.refusal(seqs.get(i)) + " (build steps with newStep())");
            }
            pieces.add(new Piece(i, seqs.get(i), toks, 0, toks.length));
            rowOf[i] = -1;
            if (s != null) {
                rowOf[i] = specs.size();
                rows[specs.size()] = row0 + toks.length - 1;
                specs.add(s);
            }
            row0 += toks.length;
        }
        CUdeviceptr logitRows = runStep(pieces, rows, specs.size());
        SampledToken[] picked = new SampledToken[0];
        if (!specs.isEmpty()) {
            loop.logits(logitRows, specs.size());
            lastStepHostNanos = System.nanoTime() - started;
            picked = sampler.sample(specs.toArray(new SampleSpec[0]));
        } else {
            lastStepHostNanos = System.nanoTime() - started;
        }
        List<SampledToken> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            out.add(rowOf[i] < 0 ? null : picked[rowOf[i]]);
        }
        return out;
    }

    /** Uploads the step's arrays, runs the layers over the step's attention; returns the logit-row index on the device. */
    private CUdeviceptr runStep(List<Piece> pieces, int[] logitRows, int nLogit) {
        int np = pieces.size();
        int rows = 0;
        for (Piece p : pieces) {
            rows += p.n();
        }
        int[] tokens = new int[rows];
        int[] positions = new int[rows];
        int[] rowPiece = new int[rows];
        int[] pos0 = new int[np];
        int[] n = new int[np];
        int r = 0;
        for (int j = 0; j < np; j++) {
            Piece p = pieces.get(j);
            pos0[j] = p.seq().length;
            n[j] = p.n();
            for (int t = 0; t < p.n(); t++) {
                tokens[r] = p.tokens()[p.from() + t];
                positions[r] = pos0[j] + t;
                rowPiece[r] = j;
                r++;
            }
        }
        ctx.synchronize(); // the staging buffers may still be read by the previous step's copies
        b.pack.reset();
        CUdeviceptr dTokens = b.pack.ints(tokens, rows);
        CUdeviceptr dPositions = b.pack.ints(positions, rows);
        CUdeviceptr dRowPiece = b.pack.ints(rowPiece, rows);
        CUdeviceptr dLogitRows = b.pack.ints(logitRows, nLogit);
        KittyCache kc = pieces.get(0).seq().cache();
        StepAttention att;
        if (kc == null) {
            List<PagePool.Table> tables = new ArrayList<>(np);
            for (Piece p : pieces) {
                tables.add(p.seq().table);
            }
            att = fp16.prepare(tables, pos0, n, rows, b.pack);
        } else {
            List<KittyCache.Seq> kseqs = new ArrayList<>(np);
            for (Piece p : pieces) {
                kseqs.add(p.seq().kitty);
            }
            att = KittyStepAttention.prepare(kc, attention, kseqs, pos0, n, rows, b.pack, dRowPiece, dPositions);
        }
        b.uploadStep(ctx.stream());
        LayerLoop.Rows stepRows = new LayerLoop.Rows(rows, dTokens, dPositions, dRowPiece);
        Object attKey = att.replayKey();
        if (graphs != null && graphsInUse && attKey != null) {
            // rows and logit rows fix the grids, the GEMM choices and where the attention's arrays sit in the pack
            graphs.run(new StepKey(rows, nLogit, attKey), () -> loop.run(stepRows, att));
        } else {
            loop.run(stepRows, att);
        }
        for (Piece p : pieces) {
            p.seq().length += p.n();
        }
        return dLogitRows;
    }

    private List<CudaSequence> sequencesOf(List<ForwardInput> batch) {
        Map<CudaSequence, Boolean> seen = new IdentityHashMap<>();
        List<CudaSequence> seqs = new ArrayList<>(batch.size());
        for (ForwardInput in : batch) {
            if (!(in.sequence() instanceof CudaSequence s) || s.owner != this) {
                throw new IllegalArgumentException("sequence was not made by this CUDA backend");
            }
            if (s.released) {
                throw new IllegalArgumentException("sequence was released");
            }
            if (seen.put(s, Boolean.TRUE) != null) {
                throw new IllegalArgumentException("a sequence appears twice in one forward step");
            }
            if (s.length + in.tokens().length > c.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("sequence would reach " + (s.length + in.tokens().length)
                        + " tokens, beyond the model's context of " + c.maxPositionEmbeddings());
            }
            for (int t : in.tokens()) {
                if (t < 0 || t >= vocab) {
                    throw new IllegalArgumentException("token id " + t + " outside the vocabulary of " + vocab);
                }
            }
            seqs.add(s);
        }
        return seqs;
    }

    // ------------------------------------------------------------------------------------
    // benchmark and self-test support (used by the gpu-checks module)

    /**
     * Benchmarks: device time per kernel (and per GEMM) of one step, launched from the host
     * (a profiled step is never captured or replayed).
     */
    public synchronized List<LaunchProfile.Entry> profileStep(Runnable step) {
        ctx.makeCurrent();
        boolean was = graphsInUse;
        LaunchProfile p = new LaunchProfile(ctx.stream());
        graphsInUse = false;
        k.profile(p);
        try {
            step.run();
        } finally {
            k.profile(null);
            graphsInUse = was;
        }
        return p.finish();
    }

    /** Benchmarks time the same steps replayed and launched in one run: turns replaying off and on again. */
    public synchronized void useGraphs(boolean on) {
        graphsInUse = on;
    }

    /** Steps replayed as CUDA graphs so far; 0 when graphs are off. */
    public synchronized long graphReplays() {
        return graphs == null ? 0 : graphs.replays();
    }

    /** Fills every layer's fp16 pools with seeded random values: long benchmark contexts without a prefill. */
    public synchronized void fillKvRandom(long seed) {
        ctx.makeCurrent();
        fp16.fillRandom(k, seed);
        ctx.synchronize();
    }

    /** Benchmarks: fills the pools of quantized mode {@code kv} with random tails and valid random pages. */
    public synchronized void fillKittyRandom(KvSettings kv, long seed) {
        ctx.makeCurrent();
        kittyCache(kv).fillRandom(seed);
    }

    /** Benchmarks: a quantized sequence that already holds {@code length} tokens (pages and tail as the pools hold them). */
    public synchronized SequenceState syntheticSequence(KvSettings kv, int length, long worstCaseTokens) {
        if (!kv.quantized()) {
            return syntheticSequence(length, worstCaseTokens);
        }
        CudaSequence s = new CudaSequence(this, null, kittyCache(kv).synthetic(length, worstCaseTokens), 0);
        s.length = length;
        return s;
    }

    /**
     * Benchmarks and self-tests: the decode attention alone over the pages of quantized
     * sequences of this backend, one decode row each at their current lengths (see
     * {@link KittyAttentionProbe}); valid until the next step.
     */
    public synchronized KittyAttentionProbe kittyAttentionProbe(List<SequenceState> seqs, long seed) {
        ctx.makeCurrent();
        List<KittyCache.Seq> kseqs = new ArrayList<>(seqs.size());
        int[] lengths = new int[seqs.size()];
        KittyCache kc = null;
        for (int i = 0; i < seqs.size(); i++) {
            KittyCache.Seq q = kittySeq(seqs.get(i));
            if (kc != null && q.cache() != kc) {
                throw new IllegalArgumentException("the probe's sequences must share one quantized mode");
            }
            kc = q.cache();
            kseqs.add(q);
            lengths[i] = seqs.get(i).length();
        }
        if (kc == null) {
            throw new IllegalArgumentException("a probe needs at least one sequence");
        }
        ctx.synchronize(); // the previous step's uploads have left the staging buffer
        return KittyAttentionProbe.of(kc, kseqs, lengths, seed);
    }

    @Override
    public synchronized long kvPoolBytes(KvSettings kv) {
        return kv.quantized() ? kittyPoolBytes(kv) : (long) fp16.pool().totalPages() * fp16.pool().bytesPerPage();
    }

    /** Benchmarks: the quantized pool's bytes (pages and tail slots). */
    public synchronized long kittyPoolBytes(KvSettings kv) {
        KittyCache kc = kittyCache(kv);
        return kc.memory.bytes(kc.sizing);
    }

    /** Benchmarks: the quantized mode's memory plan (bytes per page and slot). */
    public synchronized KittyMemoryPlan kittyMemory(KvSettings kv) {
        return kittyCache(kv).memory;
    }

    /** Benchmarks: an fp16 sequence that already holds {@code length} tokens (its pages hold whatever the pools hold). */
    public synchronized SequenceState syntheticSequence(int length, long worstCaseTokens) {
        CudaSequence s = new CudaSequence(this, fp16.pool().open(worstCaseTokens), null, fp16BytesPerToken());
        s.table.ensure(length);
        s.length = length;
        return s;
    }

    private KittyCache.Seq kittySeq(SequenceState s) {
        if (!(s instanceof CudaSequence q) || q.kitty == null) {
            throw new IllegalArgumentException("not a quantized sequence of this backend");
        }
        return q.kitty;
    }

    /** Self-test: a quantized sequence's key page {@code page} of one layer and kv head, read back from the device. */
    public synchronized byte[] kittyKeyPage(SequenceState s, int layer, int page, int head) {
        ctx.makeCurrent();
        KittyCache.Seq q = kittySeq(s);
        return q.cache().keyPageBytes(q, layer, page, head);
    }

    public synchronized byte[] kittyValuePage(SequenceState s, int layer, int page, int head) {
        ctx.makeCurrent();
        KittyCache.Seq q = kittySeq(s);
        return q.cache().valuePageBytes(q, layer, page, head);
    }

    /** Self-test: the last layer's staging rows after a one-sequence prompt step (the fp16 inputs of its pages). */
    public synchronized float[] kittyStaged(SequenceState s, int rows, boolean values) {
        ctx.makeCurrent();
        return kittySeq(s).cache().stagedKeys(rows, values);
    }

    public long splitKFloats() {
        return budget.splitKFloats();
    }

    /** Layer 0's weight of a GEMM by name (qkv, o, gate_up, down) or the LM head: for GEMM benchmarks. */
    public CUdeviceptr weightForBench(String name) {
        DeviceModel.Layer l = w.layer(0);
        return switch (name) {
            case "qkv" -> l.qkv();
            case "o" -> l.o();
            case "gate_up" -> l.gateUp();
            case "down" -> l.down();
            case "lm_head" -> w.lmHead();
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** A workspace buffer that holds {@code rows} rows of the named GEMM's output (null when none does). */
    public CUdeviceptr scratchOut(String name, int rows) {
        if (name.equals("lm_head")) {
            return rows <= budget.logitRowsDev() ? b.logits : null;
        }
        return rows <= budget.stepRows() ? b.gu : null;
    }

    /** Benchmarks: out[M,N] (+)= operand[M,K] . weight[N,K]^T with the operand in the step's operand planes. */
    public void gemm(CUdeviceptr weight, CUdeviceptr out, int m, int n, int kk, boolean accumulate) {
        gemm.run(b.ah, split ? b.al : null, weight, out, m, n, kk, accumulate);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ctx.makeCurrent();
        ctx.synchronize();
        if (graphs != null) {
            graphs.close();
        }
        b.close();
        gemms.close();
        for (KittyCache kc : kitty.values()) {
            kc.close();
        }
        arena.close();
        ctx.close();
    }

    @Override
    public String toString() {
        return "CudaBackend[" + device + ", " + c.architecture().hfName() + ", " + c.numLayers() + " layers]";
    }
}
