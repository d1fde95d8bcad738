package kittyspark.runtime.backend.cuda;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
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
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.DeviceArena;
import kittyspark.runtime.backend.cuda.driver.HostPack;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.driver.PinnedBuffer;
import kittyspark.runtime.backend.cuda.gemm.GemmPlan;
import kittyspark.runtime.backend.cuda.gemm.TiledGemm;
import kittyspark.runtime.backend.cuda.kitty.KittyCache;
import kittyspark.runtime.backend.cuda.kitty.KittyKernels;
import kittyspark.runtime.backend.cuda.kitty.KittyMemoryPlan;
import kittyspark.runtime.backend.cuda.kitty.KittyStepPlan;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transformer on an NVIDIA GPU: JCuda's driver API and the project's own kernels (PTX
 * from src/main/cuda). fp32 residual stream; bf16 weights on the tensor cores (split or bf16
 * operand precision, see {@link Precision}); a paged fp16 KV cache of 16-token pages whose
 * page pool is sized from the memory left after weights and workspace. {@link #forward}
 * returns host logits (scoring, tests); {@link #forwardAndSample} samples on the device so only
 * token ids and log-probabilities come back.
 *
 * <p>Thread-safe by serialization: every call binds the device's primary context to the
 * calling thread and runs under the backend's lock.
 */
public final class CudaBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);
    public static final int PAGE_TOKENS = 16;
    /** Host staging for logits copied back by {@link #forward}. */
    static final long LOGIT_STAGE_BYTES = 64L << 20;
    /** Memory left free on the device for the driver, module code and stacks. */
    static final long DEVICE_RESERVE_BYTES = 512L << 20;
    public static final int SAMPLE_THREADS = 1024;
    /** Query rows per block of the tensor-core prefill attention (4 warps x 16). */
    static final int TENSOR_CORE_TILE_ROWS = 64;
    /** Sequence length the pools are sized for and the start-up line reports (prompt 2048 + 128). */
    public static final long REFERENCE_TOKENS = 2048 + 128;
    /** Share of the free memory a quantized mode's pool takes when it is first used (not the sized-for mode). */
    static final double LATE_POOL_FRACTION = 0.5;

    private final ModelConfig c;
    private final CudaSettings settings;
    private final String device;
    private final CudaContext ctx;
    private final Kernels k;
    private final DeviceArena arena;
    private final DeviceModel w;
    private final boolean split;
    private final int hidden, qw, kvw, headDim, inter, vocab, heads, kvHeads, layers, maxK;
    private final int maxRows, partialRows, logitRowsHost, logitRowsDev;
    private final CUdeviceptr x, ah, al, qkv, gu, partO, partMl, logits, params, sampled, splitK;
    /** Split-K partial planes for decode GEMMs: MAX_SPLITS x 256 rows x the widest layer GEMM. */
    private final long splitKFloats;
    private final CUdeviceptr[] kPool, vPool;
    private final PagePool pool;
    private final PinnedBuffer hostParams, hostLogits, hostSampled;
    private final HostPack pack;
    private final SplitPlanner prefillPlanner, decodePlanner, tensorCorePlanner;
    private final String attnPrefill, attnDecode, attnTensorCore;
    private final float attnScale;
    /** Quantized-page caches by KV mode: the sized-for one made at start-up, others on first use. */
    private final Map<KvSettings, KittyCache> kitty = new java.util.LinkedHashMap<>();
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
        this.hidden = c.hiddenSize();
        this.headDim = c.headDim();
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.qw = heads * headDim;
        this.kvw = kvHeads * headDim;
        this.inter = c.intermediateSize();
        this.vocab = c.vocabSize();
        this.layers = c.numLayers();
        this.maxK = Math.max(hidden, Math.max(qw, inter));
        this.split = s.precision() == Precision.SPLIT;
        for (int dim : new int[] {hidden, qw, inter}) {
            if (dim % GemmPlan.TILE_K != 0) {
                throw new IllegalArgumentException("the CUDA kernels need hidden, heads*head_dim and intermediate sizes that are multiples of "
                        + GemmPlan.TILE_K + "; this model has " + hidden + ", " + qw + ", " + inter);
            }
        }
        if (headDim != 32 && headDim != 64 && headDim != 128) {
            throw new IllegalArgumentException("the CUDA attention kernels take head_dim 32, 64 or 128, not " + headDim);
        }
        int group = heads / kvHeads;
        int prefillPpw = headDim == 128 ? 6 : 8;
        if (group > 4 * prefillPpw) {
            throw new IllegalArgumentException("GQA groups of " + group + " query heads are too large for the CUDA attention kernel");
        }
        this.attnPrefill = "attn_partial_d" + headDim + "_p" + prefillPpw;
        this.attnDecode = group <= 4 ? "attn_partial_d" + headDim + "_p1" : attnPrefill;
        // bf16 mode prefills on the tensor cores (fp16 Q and P); split mode keeps fp32 attention.
        this.attnTensorCore = "attn_prefill_tc_d" + headDim;
        this.attnScale = (float) (1.0 / Math.sqrt(headDim));

        this.ctx = new CudaContext(s.ordinal());
        try {
            this.k = new Kernels(ctx.stream());
            this.maxRows = s.maxStepTokens();
            this.partialRows = 2 * maxRows + 1024;
            this.logitRowsHost = (int) Math.max(1, Math.min(1024, LOGIT_STAGE_BYTES / (4L * vocab)));
            this.logitRowsDev = Math.max(s.maxBatch(), logitRowsHost);
            long weightBytes = DeviceModel.bytes(c);
            long T = maxRows;
            long work = DeviceArena.align(4 * T * hidden) + 2 * DeviceArena.align(2 * T * maxK)
                    + DeviceArena.align(4 * T * (qw + 2L * kvw)) + DeviceArena.align(4 * T * 2L * inter)
                    + DeviceArena.align(4L * partialRows * qw) + DeviceArena.align(8L * partialRows * heads)
                    + DeviceArena.align(4L * logitRowsDev * vocab) + DeviceArena.align(8L * logitRowsDev)
                    + DeviceArena.align(4L * GemmPlan.MAX_SPLITS * Math.min(T, GemmPlan.DECODE_MAX_M)
                            * Math.max(Math.max(hidden, qw + 2L * kvw), 2L * inter));
            long pageBytesPerLayer = (long) kvHeads * PAGE_TOKENS * headDim * 2; // K or V of one page, fp16
            long bytesPerPage = 2 * pageBytesPerLayer * layers;
            long free = ctx.memInfo()[0];
            long room = free - weightBytes - work - DEVICE_RESERVE_BYTES;
            // Each page also costs a page-table entry per step in the parameter region: small.
            long kvBytes = s.kvBudgetBytes() > 0 ? Math.min(s.kvBudgetBytes(), room) : (long) (s.kvFraction() * room);
            boolean quantized = s.kv().quantized();
            if (quantized && unsupported(s.kv()) != null) {
                throw new IllegalArgumentException(unsupported(s.kv()));
            }
            // Sized for a quantized mode: the fp16 pool keeps a small share (fp16 reference runs).
            long fp16Bytes = quantized
                    ? (long) (kvBytes * Double.parseDouble(System.getProperty(CudaSettings.FP16_SHARE_PROPERTY, "0.05")))
                    : kvBytes;
            int pages = PagePool.pagesFor(Math.max(0, fp16Bytes), bytesPerPage + 4);
            if (pages < 1 && !quantized) {
                throw new IllegalStateException(device + ": no room for a KV cache: " + gib(free) + " free, weights "
                        + gib(weightBytes) + ", workspace " + gib(work));
            }
            long paramBytes = 4L * (pages + 16L * T + 8L * (partialRows + T) + 6L * logitRowsDev + 1024) + 8L * logitRowsDev;
            long kvTotal = (long) pages * bytesPerPage;
            this.arena = new DeviceArena(weightBytes + work + DeviceArena.align(paramBytes) + kvTotal
                    + 2L * layers * DeviceArena.ALIGN + 64 * DeviceArena.ALIGN);
            this.w = source.build(arena, k);
            this.x = arena.take(4 * T * hidden);
            this.ah = arena.take(2 * T * maxK);
            this.al = arena.take(2 * T * maxK);
            this.qkv = arena.take(4 * T * (qw + 2L * kvw));
            this.gu = arena.take(4 * T * 2L * inter);
            this.partO = arena.take(4L * partialRows * qw);
            this.partMl = arena.take(8L * partialRows * heads);
            this.logits = arena.take(4L * logitRowsDev * vocab);
            this.sampled = arena.take(8L * logitRowsDev);
            this.splitKFloats = (long) GemmPlan.MAX_SPLITS * Math.min(T, GemmPlan.DECODE_MAX_M)
                    * Math.max(Math.max(hidden, qw + 2L * kvw), 2L * inter);
            this.splitK = arena.take(4 * splitKFloats);
            this.params = arena.take(paramBytes);
            this.kPool = new CUdeviceptr[layers];
            this.vPool = new CUdeviceptr[layers];
            for (int l = 0; l < layers; l++) {
                kPool[l] = arena.take((long) pages * pageBytesPerLayer);
                vPool[l] = arena.take((long) pages * pageBytesPerLayer);
            }
            this.pool = new PagePool(pages, PAGE_TOKENS, bytesPerPage);
            this.hostParams = new PinnedBuffer(paramBytes);
            this.hostLogits = new PinnedBuffer(4L * logitRowsHost * vocab);
            this.hostSampled = new PinnedBuffer(8L * logitRowsDev);
            this.pack = new HostPack(hostParams, params);
            int blocks = 4 * ctx.multiprocessors();
            this.prefillPlanner = new SplitPlanner(Math.max(1, 4 * prefillPpw / group), blocks, kvHeads, partialRows);
            this.decodePlanner = new SplitPlanner(1, blocks, kvHeads, partialRows);
            this.tensorCorePlanner = new SplitPlanner(TENSOR_CORE_TILE_ROWS, blocks, heads, partialRows);
            for (String gemm : new String[] {"gemm_tiled_plain", "gemm_tiled_split"}) {
                k.allowSharedMemory(gemm, GemmPlan.of(GemmPlan.DECODE_MAX_M + 1, 128, 32, gemm.endsWith("split")).sharedBytes());
            }
            ctx.synchronize();
            long seqs = pool.maxSequencesOf(REFERENCE_TOKENS);
            String pools;
            if (quantized) {
                KittyCache kc = openKitty(s.kv(), kvBytes - fp16Bytes);
                seqs = kc.maxSequences(REFERENCE_TOKENS);
                pools = String.format(Locale.ROOT, "KV pool %s: %d key + %d value pages of %d tokens, %d fp16 tail slots (%s),"
                                + " fp16 side pool %d pages x %d tokens (%s)", s.kv().describe(), kc.sizing.keyPages(),
                        kc.sizing.valuePages(), kc.config.pageSize(), kc.sizing.slots(), gib(kc.bytes()), pages, PAGE_TOKENS, gib(kvTotal));
            } else {
                pools = String.format(Locale.ROOT, "KV pool %d pages x %d tokens = %d tokens (%s fp16)", pages, PAGE_TOKENS,
                        pool.totalTokens(), gib(kvTotal));
            }
            LOG.info(String.format(Locale.ROOT, "%s (%s, %d SMs): weights %s bf16, workspace %s for %d tokens/step, %s GEMM operands;"
                            + " %s, max concurrent sequences at prompt 2048 + 128: %d",
                    device, ctx.name(), ctx.multiprocessors(), gib(weightBytes), gib(work), maxRows,
                    split ? "split bf16 (hi+lo)" : "bf16", pools, seqs));
        } catch (RuntimeException | Error e) {
            for (KittyCache kc : kitty.values()) {
                kc.close();
            }
            ctx.close();
            throw e;
        }
    }

    /** System property: the sequence length (prompt + new tokens) quantized pools are sized for (default 2048 + 128). */
    public static final String REFERENCE_TOKENS_PROPERTY = "kittyspark.cuda.kvReferenceTokens";

    /** Makes the quantized-page cache of {@code kv} with {@code budgetBytes} of device memory. */
    private KittyCache openKitty(KvSettings kv, long budgetBytes) {
        k.load("kitty_pages");
        long ref = Long.getLong(REFERENCE_TOKENS_PROPERTY, REFERENCE_TOKENS);
        KittyCache kc = new KittyCache(c, kv, budgetBytes, ref, settings.maxBatch(), maxRows, ctx, k);
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
        long free = ctx.memInfo()[0] - DEVICE_RESERVE_BYTES;
        long budget = (long) (LATE_POOL_FRACTION * Math.max(0, free));
        if (settings.kvBudgetBytes() > 0) {
            budget = Math.min(budget, settings.kvBudgetBytes());
        }
        KittyCache made = openKitty(kv, budget);
        LOG.info(String.format(Locale.ROOT, "%s: KV pool for %s made on first use: %d key + %d value pages, %d tail slots (%s),"
                        + " max concurrent sequences at prompt 2048 + 128: %d", device, kv.describe(), made.sizing.keyPages(),
                made.sizing.valuePages(), made.sizing.slots(), gib(made.bytes()), made.maxSequences(REFERENCE_TOKENS)));
        return made;
    }

    /** Max concurrent sequences of {@code tokens} each that the pool of mode {@code kv} holds. */
    public synchronized long maxSequences(KvSettings kv, long tokens) {
        return kv.quantized() ? kittyCache(kv).maxSequences(tokens) : pool.maxSequencesOf(tokens);
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
        return pool;
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

    @Override
    public String unsupported(KvSettings kv) {
        if (!kv.quantized()) {
            return null;
        }
        int group = heads / kvHeads;
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
                return new CudaSequence(null, kittyCache(kv).open(worstCaseTokens));
            }
        }
        return new CudaSequence(pool.open(worstCaseTokens), null);
    }

    @Override
    public boolean admits(long worstCaseTokens) {
        return pool.fits(worstCaseTokens);
    }

    @Override
    public synchronized boolean admits(KvSettings kv, long worstCaseTokens) {
        if (kv.quantized()) {
            return unsupported(kv) == null && kittyCache(kv).fits(worstCaseTokens);
        }
        return pool.fits(worstCaseTokens);
    }

    // ------------------------------------------------------------------------------------
    // benchmark support

    /**
     * Fills every layer's K and V page pools with seeded random fp16 values (std 0.5): a
     * benchmark's long contexts then cost what real ones cost without prefilling them.
     */
    public synchronized void fillKvRandom(long seed) {
        ctx.makeCurrent();
        long elements = (long) pool.totalPages() * kvHeads * PAGE_TOKENS * headDim;
        for (int l = 0; l < layers; l++) {
            k.launch("fill_f16_uniform", 2048, 1, 256, 0, new KernelArgs().ptr(kPool[l]).i64(elements).i64(seed + 2L * l).f32(0f).f32(0.5f));
            k.launch("fill_f16_uniform", 2048, 1, 256, 0, new KernelArgs().ptr(vPool[l]).i64(elements).i64(seed + 2L * l + 1).f32(0f).f32(0.5f));
        }
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
        CudaSequence s = new CudaSequence(null, kittyCache(kv).synthetic(length, worstCaseTokens));
        s.length = length;
        return s;
    }

    /** Benchmarks: the quantized pool's bytes (pages and tail slots) and its sizing. */
    public synchronized long kittyPoolBytes(KvSettings kv) {
        KittyCache kc = kittyCache(kv);
        return kc.memory.bytes(kc.sizing);
    }

    /** Benchmarks: the quantized mode's memory plan (bytes per page and slot). */
    public synchronized kittyspark.runtime.backend.cuda.kitty.KittyMemoryPlan kittyMemory(KvSettings kv) {
        return kittyCache(kv).memory;
    }

    /**
     * A sequence that already holds {@code length} tokens: its pages are claimed and their
     * content is whatever the pools hold (see {@link #fillKvRandom}). For benchmarks only.
     */
    public synchronized SequenceState syntheticSequence(int length, long worstCaseTokens) {
        CudaSequence s = new CudaSequence(pool.open(worstCaseTokens), null);
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
        return splitKFloats;
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
            return rows <= logitRowsDev ? logits : null;
        }
        return rows <= maxRows ? gu : null;
    }

    // ------------------------------------------------------------------------------------
    // forward

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
        KittyCache kc = kittyOf(seqs);
        while (true) {
            List<Piece> pieces = new ArrayList<>();
            int budget = maxRows;
            int scratchLeft = kc == null ? 0 : kc.scratchPages;
            int stageLeft = kc == null ? 0 : kc.stageRows;
            for (int i = 0; i < batch.size() && budget > 0; i++) {
                int rem = batch.get(i).tokens().length - fed[i];
                if (rem > 0) {
                    int take = Math.min(rem, budget);
                    if (kc != null) {
                        // A Kitty chunk also takes scratch pages for its whole context and staging rows.
                        // An input is split only when it cannot fit a step alone: a later piece would
                        // see the earlier one's quantized pages, where the CPU reference attends the
                        // whole input in full precision.
                        int l0 = seqs.get(i).length;
                        if (pieces.size() >= kc.maxBatch) {
                            break;
                        }
                        take = kittyTake(kc, l0, take, scratchLeft, stageLeft);
                        if (take == 0 || (take < rem && !pieces.isEmpty())) {
                            break;
                        }
                        scratchLeft -= KittyStepPlan.scratchNeed(l0, take);
                        stageLeft -= KittyStepPlan.stageNeed(kc.config, l0, take);
                    }
                    pieces.add(new Piece(i, seqs.get(i), batch.get(i).tokens(), fed[i], take));
                    budget -= take;
                }
            }
            if (pieces.isEmpty()) {
                if (java.util.stream.IntStream.range(0, batch.size()).anyMatch(i -> fed[i] < batch.get(i).tokens().length)) {
                    throw new IllegalStateException("a Kitty sequence's context exceeds the step's scratch of "
                            + (kc == null ? 0 : kc.scratchPages * KittyStepPlan.SCRATCH_PAGE) + " tokens for a prompt chunk");
                }
                break;
            }
            // Which rows' logits are wanted, and where each goes.
            List<float[]> dest = new ArrayList<>();
            List<Integer> destOff = new ArrayList<>();
            int[] rows = new int[maxRows];
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
            runLayers(pieces, rows, nRows);
            FloatBuffer stage = hostLogits.bytes().asFloatBuffer();
            for (int r0 = 0; r0 < nRows; r0 += logitRowsHost) {
                int rc = Math.min(logitRowsHost, nRows - r0);
                logitRows(r0, rc);
                hostLogits.fromDevice(logits, 4L * rc * vocab, ctx.stream());
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

    /** Most of {@code want} tokens a Kitty piece at {@code l0} may take within the step's scratch and staging (0: none). */
    private static int kittyTake(KittyCache kc, int l0, int want, int scratchLeft, int stageLeft) {
        int take = want;
        while (take > 0 && (KittyStepPlan.scratchNeed(l0, take) > scratchLeft
                || KittyStepPlan.stageNeed(kc.config, l0, take) > stageLeft)) {
            take = take > 64 ? take - Math.max(1, take / 8) : take - 1;
        }
        return take;
    }

    /** The Kitty cache all of a step's sequences use, or null when they hold fp16 pages; mixed steps are refused. */
    private static KittyCache kittyOf(List<CudaSequence> seqs) {
        KittyCache kc = null;
        for (int i = 0; i < seqs.size(); i++) {
            KittyCache.Seq q = seqs.get(i).kitty;
            KittyCache mine = q == null ? null : q.cache();
            if (i > 0 && mine != kc) {
                throw new IllegalArgumentException("one CUDA step takes sequences of one KV mode; this one mixes them");
            }
            kc = mine;
        }
        return kc;
    }

    /** Whether a whole step fits one Kitty launch plan (else it is fed in pieces by {@link #forward}). */
    private static boolean kittyFits(KittyCache kc, List<CudaSequence> seqs, List<ForwardInput> batch) {
        int scratch = 0;
        int stage = 0;
        for (int i = 0; i < seqs.size(); i++) {
            int l0 = seqs.get(i).length;
            int n = batch.get(i).tokens().length;
            scratch += KittyStepPlan.scratchNeed(l0, n);
            stage += KittyStepPlan.stageNeed(kc.config, l0, n);
        }
        return scratch <= kc.scratchPages && stage <= kc.stageRows && seqs.size() <= kc.maxBatch;
    }

    @Override
    public synchronized List<SampledToken> forwardAndSample(List<ForwardInput> batch, List<SampleSpec> samples) {
        int total = batch.stream().mapToInt(in -> in.tokens().length).sum();
        long wanted = samples.stream().filter(s -> s != null).count();
        if (total > maxRows || wanted > logitRowsDev) {
            return Backend.super.forwardAndSample(batch, samples); // longer than one step: host sampling
        }
        ctx.makeCurrent();
        List<CudaSequence> seqs = sequencesOf(batch);
        KittyCache kcs = kittyOf(seqs);
        if (kcs != null && !kittyFits(kcs, seqs, batch)) {
            return Backend.super.forwardAndSample(batch, samples);
        }
        List<Piece> pieces = new ArrayList<>();
        int[] rows = new int[batch.size()];
        int[] rowOf = new int[batch.size()];
        int nRows = 0;
        int row0 = 0;
        float[] temperature = new float[batch.size()];
        int[] topK = new int[batch.size()];
        float[] topP = new float[batch.size()];
        long[] seed = new long[batch.size()];
        int[] tokenIndex = new int[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            int[] toks = batch.get(i).tokens();
            pieces.add(new Piece(i, seqs.get(i), toks, 0, toks.length));
            rowOf[i] = -1;
            SampleSpec s = samples.get(i);
            if (s != null) {
                SamplingParams p = s.params();
                temperature[nRows] = (float) p.temperature();
                topK[nRows] = p.topK();
                topP[nRows] = (float) p.topP();
                seed[nRows] = p.seed();
                tokenIndex[nRows] = s.tokenIndex();
                rowOf[i] = nRows;
                rows[nRows++] = row0 + toks.length - 1;
            }
            row0 += toks.length;
        }
        runLayers(pieces, rows, nRows);
        uploadSampling(nRows, temperature, topP, topK, seed, tokenIndex);
        List<SampledToken> out = new ArrayList<>(batch.size());
        if (nRows > 0) {
            logitRows(0, nRows);
            CUdeviceptr tok = sampled;
            CUdeviceptr lp = sampled.withByteOffset(4L * logitRowsDev);
            k.launch("sample_rows", nRows, 1, SAMPLE_THREADS, 0, new KernelArgs().ptr(logits).i32(vocab)
                    .ptr(sampleTemperature).ptr(sampleTopK).ptr(sampleTopP).ptr(sampleSeed).ptr(sampleIndex).ptr(tok).ptr(lp));
            hostSampled.fromDevice(sampled, 8L * logitRowsDev, ctx.stream());
            ctx.synchronize();
        }
        IntBuffer toks = hostSampled.bytes().asIntBuffer();
        FloatBuffer lps = hostSampled.bytes().asFloatBuffer();
        for (int i = 0; i < batch.size(); i++) {
            int r = rowOf[i];
            out.add(r < 0 ? null : new SampledToken(toks.get(r), lps.get(logitRowsDev + r)));
        }
        return out;
    }

    private List<CudaSequence> sequencesOf(List<ForwardInput> batch) {
        Map<CudaSequence, Boolean> seen = new IdentityHashMap<>();
        List<CudaSequence> seqs = new ArrayList<>(batch.size());
        for (ForwardInput in : batch) {
            if (!(in.sequence() instanceof CudaSequence s) || s.owner() != this) {
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

    // device addresses of the current step's arrays (valid until the next step)
    private CUdeviceptr stepTokens, stepPositions, stepRowSeq, stepSeqPt, stepPages, stepItems, stepPfirst, stepNsplit,
            stepLogitRows, sampleTemperature, sampleTopK, sampleTopP, sampleSeed, sampleIndex;

    /** The sampling arrays travel in a second small copy, to the upper half of the parameter region. */
    private void uploadSampling(int nLogit, float[] temperature, float[] topP, int[] topK, long[] seed, int[] tokenIndex) {
        ctx.synchronize(); // the step's own copy has left the staging buffer
        pack.reset();
        sampleTemperature = pack.floats(temperature, nLogit);
        sampleTopP = pack.floats(topP, nLogit);
        sampleTopK = pack.ints(topK, nLogit);
        sampleIndex = pack.ints(tokenIndex, nLogit);
        sampleSeed = pack.longs(seed, nLogit);
        long shift = hostParams.size() / 2 / DeviceArena.ALIGN * DeviceArena.ALIGN; // keeps 8-byte seeds aligned
        if (pack.used() > shift) {
            throw new IllegalStateException("sampling parameters exceed their staging area");
        }
        sampleTemperature = sampleTemperature.withByteOffset(shift);
        sampleTopP = sampleTopP.withByteOffset(shift);
        sampleTopK = sampleTopK.withByteOffset(shift);
        sampleIndex = sampleIndex.withByteOffset(shift);
        sampleSeed = sampleSeed.withByteOffset(shift);
        hostParams.toDevice(params.withByteOffset(shift), pack.used(), ctx.stream());
    }

    /** Runs every layer for the pieces' tokens: embeddings in, residual stream x out; KV appended. */
    private void runLayers(List<Piece> pieces, int[] logitRows, int nLogit) {
        KittyCache kc = pieces.get(0).seq().kitty == null ? null : pieces.get(0).seq().kitty.cache();
        if (kc != null) {
            runLayersKitty(kc, pieces, logitRows, nLogit);
            return;
        }
        int rows = 0;
        for (Piece p : pieces) {
            rows += p.n();
        }
        int[] tokens = new int[rows];
        int[] positions = new int[rows];
        int[] rowSeq = new int[rows];
        int[] seqPt = new int[pieces.size()];
        int pageCount = 0;
        for (Piece p : pieces) {
            pageCount += pool.pagesForTokens(p.seq().length + p.n());
        }
        int[] pageTable = new int[pageCount];
        SplitPlanner.Piece[] plan = new SplitPlanner.Piece[pieces.size()];
        boolean prefill = false;
        int r = 0;
        int pt = 0;
        for (int j = 0; j < pieces.size(); j++) {
            Piece p = pieces.get(j);
            CudaSequence s = p.seq();
            int pos0 = s.length;
            s.table.ensure(pos0 + p.n());
            seqPt[j] = pt;
            for (int g = 0; g < pool.pagesForTokens(pos0 + p.n()); g++) {
                pageTable[pt++] = s.table.page(g);
            }
            plan[j] = new SplitPlanner.Piece(j, r, p.n(), pos0);
            prefill |= p.n() > 1;
            for (int t = 0; t < p.n(); t++) {
                tokens[r] = p.tokens()[p.from() + t];
                positions[r] = pos0 + t;
                rowSeq[r] = j;
                r++;
            }
        }
        boolean tensorCore = prefill && !split;
        SplitPlanner.Plan att = (tensorCore ? tensorCorePlanner : prefill ? prefillPlanner : decodePlanner).plan(plan, rows);
        ctx.synchronize(); // the staging buffer may still be read by the previous step's copy
        pack.reset();
        stepTokens = pack.ints(tokens, rows);
        stepPositions = pack.ints(positions, rows);
        stepRowSeq = pack.ints(rowSeq, rows);
        stepSeqPt = pack.ints(seqPt, seqPt.length);
        stepPages = pack.ints(pageTable, pageTable.length);
        stepItems = pack.ints(att.items(), 8 * att.itemCount());
        stepPfirst = pack.ints(att.pfirst(), rows);
        stepNsplit = pack.ints(att.nsplit(), rows);
        stepLogitRows = pack.ints(logitRows, nLogit);
        if (pack.used() > hostParams.size() / 2 / DeviceArena.ALIGN * DeviceArena.ALIGN) {
            throw new IllegalStateException("step parameters exceed their staging area");
        }
        hostParams.toDevice(params, pack.used(), ctx.stream());

        int qkvw = qw + 2 * kvw;
        float eps = (float) c.rmsNormEps();
        k.launch("embed_rows", rows, 1, 256, 0, new KernelArgs().ptr(stepTokens).ptr(w.embedding()).ptr(x).i32(hidden));
        String attn = tensorCore ? attnTensorCore : prefill ? attnPrefill : attnDecode;
        int attnBlocksY = tensorCore ? heads : kvHeads; // the tensor-core kernel takes one query head per block
        for (int l = 0; l < layers; l++) {
            DeviceModel.Layer lw = w.layer(l);
            rmsnorm(x, null, lw.inputNorm(), rows);
            gemm(lw.qkv(), qkv, rows, qkvw, hidden, false);
            k.launch("qk_rope_kv_write", rows, 1, 128, 4 * headDim * 4, new KernelArgs().ptr(qkv).ptr(stepPositions)
                    .ptr(stepRowSeq).ptr(stepSeqPt).ptr(stepPages).ptr(w.invFreq()).ptr(lw.qNorm()).ptr(lw.kNorm()).f32(eps)
                    .i32(heads).i32(kvHeads).i32(headDim).ptr(kPool[l]).ptr(vPool[l]));
            k.launch(attn, att.itemCount(), attnBlocksY, 128, 0, new KernelArgs().ptr(qkv).i32(qkvw).ptr(stepItems).ptr(stepSeqPt)
                    .ptr(stepPages).ptr(kPool[l]).ptr(vPool[l]).i32(heads).i32(kvHeads).f32(attnScale).ptr(partO).ptr(partMl));
            k.launch("attn_combine", rows, heads, headDim, 0, new KernelArgs().ptr(partO).ptr(partMl).ptr(stepPfirst).ptr(stepNsplit)
                    .i32(heads).i32(headDim).ptr(ah).ptr(split ? al : null));
            gemm(lw.o(), x, rows, hidden, qw, true);
            rmsnorm(x, null, lw.postNorm(), rows);
            gemm(lw.gateUp(), gu, rows, 2 * inter, hidden, false);
            k.launch("silu_gate_rows", rows, 1, 256, 0, new KernelArgs().ptr(gu).i32(inter).ptr(ah).ptr(split ? al : null));
            gemm(lw.down(), x, rows, hidden, inter, true);
        }
        for (Piece p : pieces) {
            p.seq().length += p.n();
        }
    }

    /**
     * {@link #runLayers} for sequences with quantized pages: the new K/V go to fp16 scratch pages
     * (and from there to staging rows or the rings), prompt chunks attend in full precision with
     * the fp16 kernels over their scratch context, decode rows with the split-KV Kitty kernel,
     * and after each layer's attention the flush quantizes the pages that became full.
     */
    private void runLayersKitty(KittyCache kc, List<Piece> pieces, int[] logitRows, int nLogit) {
        int rows = 0;
        for (Piece p : pieces) {
            rows += p.n();
        }
        int np = pieces.size();
        int[] tokens = new int[rows];
        int[] positions = new int[rows];
        int[] rowSeq = new int[rows];
        int[] l0 = new int[np];
        int[] n = new int[np];
        int[] row0 = new int[np];
        List<KittyCache.Seq> kseqs = new ArrayList<>(np);
        List<SplitPlanner.Piece> chunks = new ArrayList<>();
        boolean prefill = false;
        int r = 0;
        for (int j = 0; j < np; j++) {
            Piece p = pieces.get(j);
            l0[j] = p.seq().length;
            n[j] = p.n();
            row0[j] = r;
            kseqs.add(p.seq().kitty);
            if (KittyStepPlan.isChunk(l0[j], n[j])) {
                chunks.add(new SplitPlanner.Piece(j, r, p.n(), l0[j]));
                prefill |= p.n() > 1;
            }
            for (int t = 0; t < p.n(); t++) {
                tokens[r] = p.tokens()[p.from() + t];
                positions[r] = l0[j] + t;
                rowSeq[r] = j;
                r++;
            }
        }
        boolean tensorCore = prefill && !split;
        SplitPlanner.Plan att = chunks.isEmpty() ? null
                : (tensorCore ? tensorCorePlanner : prefill ? prefillPlanner : decodePlanner)
                        .plan(chunks.toArray(new SplitPlanner.Piece[0]), rows);
        ctx.synchronize(); // the staging buffers may still be read by the previous step's copies
        KittyCache.Step st = kc.prepare(kseqs, l0, n, row0);
        pack.reset();
        stepTokens = pack.ints(tokens, rows);
        stepPositions = pack.ints(positions, rows);
        stepRowSeq = pack.ints(rowSeq, rows);
        if (att != null) {
            stepItems = pack.ints(att.items(), 8 * att.itemCount());
            stepPfirst = pack.ints(att.pfirst(), rows);
            stepNsplit = pack.ints(att.nsplit(), rows);
        }
        stepLogitRows = pack.ints(logitRows, nLogit);
        if (pack.used() > hostParams.size() / 2 / DeviceArena.ALIGN * DeviceArena.ALIGN) {
            throw new IllegalStateException("step parameters exceed their staging area");
        }
        hostParams.toDevice(params, pack.used(), ctx.stream());

        int qkvw = qw + 2 * kvw;
        float eps = (float) c.rmsNormEps();
        k.launch("embed_rows", rows, 1, 256, 0, new KernelArgs().ptr(stepTokens).ptr(w.embedding()).ptr(x).i32(hidden));
        String attn = tensorCore ? attnTensorCore : prefill ? attnPrefill : attnDecode;
        int attnBlocksY = tensorCore ? heads : kvHeads;
        for (int l = 0; l < layers; l++) {
            DeviceModel.Layer lw = w.layer(l);
            rmsnorm(x, null, lw.inputNorm(), rows);
            gemm(lw.qkv(), qkv, rows, qkvw, hidden, false);
            k.launch("qk_rope_kv_write", rows, 1, 128, 4 * headDim * 4, new KernelArgs().ptr(qkv).ptr(stepPositions)
                    .ptr(stepRowSeq).ptr(st.seqPt).ptr(st.pageTable).ptr(w.invFreq()).ptr(lw.qNorm()).ptr(lw.kNorm()).f32(eps)
                    .i32(heads).i32(kvHeads).i32(headDim).ptr(kc.scratchK).ptr(kc.scratchV));
            kc.beforeAttention(st, l, qkv, qkvw, stepRowSeq, stepPositions, rows);
            if (att != null) {
                k.launch(attn, att.itemCount(), attnBlocksY, 128, 0, new KernelArgs().ptr(qkv).i32(qkvw).ptr(stepItems)
                        .ptr(st.seqPt).ptr(st.pageTable).ptr(kc.scratchK).ptr(kc.scratchV).i32(heads).i32(kvHeads).f32(attnScale)
                        .ptr(partO).ptr(partMl));
                k.launch("attn_combine", rows, heads, headDim, 0, new KernelArgs().ptr(partO).ptr(partMl).ptr(stepPfirst)
                        .ptr(stepNsplit).i32(heads).i32(headDim).ptr(ah).ptr(split ? al : null));
            }
            kc.decodeAttention(st, l, ah, split ? al : null);
            kc.afterAttention(st, l);
            gemm(lw.o(), x, rows, hidden, qw, true);
            rmsnorm(x, null, lw.postNorm(), rows);
            gemm(lw.gateUp(), gu, rows, 2 * inter, hidden, false);
            k.launch("silu_gate_rows", rows, 1, 256, 0, new KernelArgs().ptr(gu).i32(inter).ptr(ah).ptr(split ? al : null));
            gemm(lw.down(), x, rows, hidden, inter, true);
        }
        for (Piece p : pieces) {
            p.seq().length += p.n();
        }
    }

    /** Final norm of the step rows {@code stepLogitRows[r0 .. r0+n)} and the LM head into {@code logits}. */
    private void logitRows(int r0, int n) {
        rmsnorm(x, stepLogitRows.withByteOffset(4L * r0), w.finalNorm(), n);
        gemm(w.lmHead(), logits, n, vocab, hidden, false);
    }

    private void rmsnorm(CUdeviceptr in, CUdeviceptr rowIndex, CUdeviceptr weight, int rows) {
        k.launch("rmsnorm_rows", rows, 1, 256, 0, new KernelArgs().ptr(in).ptr(rowIndex).ptr(weight)
                .f32((float) c.rmsNormEps()).i32(hidden).ptr(ah).ptr(split ? al : null));
    }

    /** out[M,N] (+)= operand[M,K] . weight[N,K]^T with the operand in ah (and al). */
    public void gemm(CUdeviceptr weight, CUdeviceptr out, int m, int n, int kk, boolean accumulate) {
        GemmPlan p = GemmPlan.of(m, n, kk, split, splitKFloats);
        TiledGemm.launch(k, p, ah, split ? al : null, weight, out, m, n, kk, accumulate, splitK);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ctx.makeCurrent();
        ctx.synchronize();
        hostParams.close();
        hostLogits.close();
        hostSampled.close();
        for (KittyCache kc : kitty.values()) {
            kc.close();
        }
        arena.close();
        ctx.close();
    }

    /** A sequence on the GPU: its page table and length; the pages hold its K and V in every layer. */
    final class CudaSequence implements SequenceState {
        /** fp16 pages, or null for a quantized sequence. */
        private final PagePool.Table table;
        /** Quantized pages and fp16 tail slot, or null for an fp16 sequence. */
        private final KittyCache.Seq kitty;
        private int length;
        private boolean released;

        CudaSequence(PagePool.Table table, KittyCache.Seq kitty) {
            this.table = table;
            this.kitty = kitty;
        }

        CudaBackend owner() {
            return CudaBackend.this;
        }

        public int[] pages() {
            return table == null ? new int[0] : table.pages();
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public long kvBytes() {
            if (released) {
                return 0;
            }
            return kitty != null ? kitty.bytes(length) : (long) length * layers * kvw * 2L * Short.BYTES;
        }

        @Override
        public void release() {
            if (!released) {
                released = true;
                if (kitty != null) {
                    kitty.release();
                } else {
                    table.release();
                }
            }
        }
    }

    @Override
    public String toString() {
        return "CudaBackend[" + device + ", " + Arrays.asList(c.architecture().hfName(), layers + " layers") + "]";
    }
}
