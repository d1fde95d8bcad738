package kittyspark.runtime.backend.cuda.kitty;

import java.util.ArrayList;
import java.util.List;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import kittyspark.kvquant.Fp16;
import kittyspark.kvquant.KeyPageLayout;
import kittyspark.kvquant.QuantConfig;
import kittyspark.kvquant.ValuePageLayout;
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.DeviceAddresses;
import kittyspark.runtime.backend.cuda.driver.DeviceArena;
import kittyspark.runtime.backend.cuda.driver.HostPack;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.driver.PinnedBuffer;
import kittyspark.runtime.backend.cuda.pages.PagePool;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;

/**
 * The device side of one {@code kivi}/{@code kitty} configuration: per layer a key page pool,
 * a value page pool and the fp16 tails (sink + key ring + value ring per sequence slot,
 * {@link KittyFpTail}), plus one layer's worth of step buffers shared by all layers (fp16
 * scratch pages the prefill attention reads, staging rows a prompt chunk's pages are made
 * from). Its own cuMemAlloc, sized by {@link KittyMemoryPlan}; its own parameter upload.
 *
 * <p>One step, per layer ({@link CudaBackend} calls these in order): qk_rope_kv_write puts the
 * new K/V in the scratch pages; {@link #beforeAttention} copies a prompt chunk's history into
 * the scratch pages and staging rows and the new rows into staging (chunks) or the rings
 * (decode); the chunks attend with the fp16 prefill kernels over the scratch pages (full
 * precision, as QuantizedKvCache's prefill does); {@link #decodeAttention} runs the split-KV
 * Kitty kernel for decode rows; {@link #afterAttention} quantizes the pages this step's flush
 * makes (one key and one value launch for every sequence) and moves a chunk's remaining
 * full-precision rows into its rings.
 */
public final class KittyCache implements AutoCloseable {
    /** Sequences per step (and tail slots) at least, whatever the engine's batch: teacher forcing batches documents itself. */
    public static final int MIN_BATCH = 64;

    public final KvSettings kv;
    public final QuantConfig config;
    public final KittyMemoryPlan memory;
    public final KittyMemoryPlan.Sizing sizing;
    public final KittyFpTail tail;
    public final KeyPageLayout keyLayout;
    public final ValuePageLayout valueLayout;
    public final KittyKernels kernels;
    public final PagePool keyPages, valuePages, slots;
    private final ModelConfig c;
    private final Kernels k;
    private final CudaContext ctx;
    private final int kvHeads, heads, headDim, layers, kvw, smCount;
    /** Most sequences one step takes (decode buffers, tail slots). */
    public final int maxBatch;
    /** GQA group the attention kernel runs with (the model's, padded up to a compiled size) and its query heads. */
    private final int paddedGroup, paddedHeads;
    public final int stageRows, scratchPages, partialCap;
    /** The decode-attention kernel, and its blocks per SM (what the split planner fills). */
    private KittyAttentionVariant attention;
    private int residentBlocks;
    private final DeviceArena arena;
    public final CUdeviceptr[] keyPool, valuePool, fpKeys, fpValues;
    private final CUdeviceptr stageK, stageV, qDec, outDec, partAcc, partMl, params;
    public final CUdeviceptr scratchK, scratchV;
    private final long[] keyPoolAt, valuePoolAt, fpKeysAt, fpValuesAt;
    private final long stageKAt, stageVAt;
    private final PinnedBuffer host;
    private final HostPack pack;

    public KittyCache(ModelConfig c, KvSettings kv, long budgetBytes, long referenceTokens, int maxBatch, int maxRows,
               CudaContext ctx, Kernels k, KittyAttentionVariant attention) {
        this.c = c;
        this.kv = kv;
        this.k = k;
        this.ctx = ctx;
        this.config = kv.quantConfig();
        this.kvHeads = c.numKvHeads();
        this.heads = c.numHeads();
        this.headDim = c.headDim();
        this.layers = c.numLayers();
        this.kvw = kvHeads * headDim;
        this.maxBatch = Math.max(maxBatch, MIN_BATCH);
        this.smCount = ctx.multiprocessors();
        this.paddedGroup = paddedGroup(heads / kvHeads);
        this.paddedHeads = kvHeads * paddedGroup;
        this.kernels = new KittyKernels(headDim, paddedGroup);
        this.memory = new KittyMemoryPlan(config, headDim, kvHeads, layers);
        this.tail = memory.tail();
        this.keyLayout = config.keyLayout(headDim);
        this.valueLayout = config.valueLayout(headDim);
        // Steps are cut so that a chunk's history plus the step fit the scratch (see CudaBackend).
        this.scratchPages = (2 * maxRows + 15) / 16 + this.maxBatch + 16;
        this.stageRows = maxRows + 8 * (config.valueWindow() + 2 * config.pageSize());
        selectAttention(attention);
        // sized for the variant that splits most, so a benchmark switching variants keeps its plans
        this.partialCap = (int) (KittyAttentionPlan.targetBlocks(smCount, residentBlocks, KittyAttentionVariant.maxFill())
                / kvHeads) + this.maxBatch + 1;
        long scratchBytes = (long) scratchPages * kvHeads * 16 * headDim * 2;
        long stageBytes = (long) stageRows * kvw * 2;
        long decodeBytes = 4L * this.maxBatch * paddedHeads * headDim;
        long paramBytes = paramBytes(maxRows, budgetBytes);
        long work = 2 * DeviceArena.align(scratchBytes) + 2 * DeviceArena.align(stageBytes) + 2 * DeviceArena.align(decodeBytes)
                + DeviceArena.align(4L * partialCap * paddedHeads * headDim) + DeviceArena.align(8L * partialCap * paddedHeads)
                + DeviceArena.align(paramBytes);
        this.sizing = memory.size(Math.max(0, budgetBytes - work), referenceTokens, this.maxBatch);
        if (sizing.slots() < 1) {
            throw new IllegalStateException(kv.describe() + ": a budget of " + budgetBytes + " bytes holds no sequence of "
                    + referenceTokens + " tokens (" + memory.sequenceBytes(referenceTokens) + " bytes each)");
        }
        this.keyPages = new PagePool(sizing.keyPages(), config.pageSize(), memory.keyPageBytes());
        this.valuePages = new PagePool(sizing.valuePages(), config.pageSize(), memory.valuePageBytes());
        this.slots = new PagePool(sizing.slots(), 1, memory.slotBytes());
        long kpl = (long) keyLayout.bytes() * kvHeads;   // one key page id, one layer
        long vpl = (long) valueLayout.bytes() * kvHeads;
        this.arena = new DeviceArena(work + layers * (DeviceArena.align(sizing.keyPages() * kpl)
                + DeviceArena.align(sizing.valuePages() * vpl) + DeviceArena.align(sizing.slots() * tail.keySlotBytes())
                + DeviceArena.align(sizing.slots() * tail.valueSlotBytes())) + 16 * DeviceArena.ALIGN);
        try {
            this.keyPool = new CUdeviceptr[layers];
            this.valuePool = new CUdeviceptr[layers];
            this.fpKeys = new CUdeviceptr[layers];
            this.fpValues = new CUdeviceptr[layers];
            this.keyPoolAt = new long[layers];
            this.valuePoolAt = new long[layers];
            this.fpKeysAt = new long[layers];
            this.fpValuesAt = new long[layers];
            for (int l = 0; l < layers; l++) {
                keyPool[l] = arena.take(sizing.keyPages() * kpl);
                valuePool[l] = arena.take(sizing.valuePages() * vpl);
                fpKeys[l] = arena.take(sizing.slots() * tail.keySlotBytes());
                fpValues[l] = arena.take(sizing.slots() * tail.valueSlotBytes());
                keyPoolAt[l] = DeviceAddresses.of(keyPool[l]);
                valuePoolAt[l] = DeviceAddresses.of(valuePool[l]);
                fpKeysAt[l] = DeviceAddresses.of(fpKeys[l]);
                fpValuesAt[l] = DeviceAddresses.of(fpValues[l]);
            }
            this.scratchK = arena.take(scratchBytes);
            this.scratchV = arena.take(scratchBytes);
            this.stageK = arena.take(stageBytes);
            this.stageV = arena.take(stageBytes);
            this.stageKAt = DeviceAddresses.of(stageK);
            this.stageVAt = DeviceAddresses.of(stageV);
            this.qDec = arena.take(decodeBytes);
            this.outDec = arena.take(decodeBytes);
            this.partAcc = arena.take(4L * partialCap * paddedHeads * headDim);
            this.partMl = arena.take(8L * partialCap * paddedHeads);
            this.params = arena.take(paramBytes);
            this.host = new PinnedBuffer(paramBytes);
            this.pack = new HostPack(host, params);
            for (String q : new String[] {KittyKernels.quantizeKeys(true)}) {
                k.allowSharedMemory(q, KittyPageJobs.keySharedBytes(keyLayout));
            }
            k.allowSharedMemory(KittyKernels.quantizeValues(true), KittyPageJobs.valueSharedBytes(valueLayout));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Upper bound of one step's uploads: jobs of every layer, piece info, history/staging rows, page tables. */
    /** The smallest group size the Kitty attention is compiled for that holds {@code group} query heads (0: none). */
    public static int paddedGroup(int group) {
        for (int g : new int[] {1, 2, 4, 8}) {
            if (g >= group) {
                return g;
            }
        }
        return 0;
    }

    private long paramBytes(int maxRows, long budgetBytes) {
        long jobs = 2L * layers * (2L * maxBatch + 2L * (stageRows / config.pageSize() + 8));
        long pageIds = 2 * budgetBytes / Math.min(memory.keyPageBytes(), memory.valuePageBytes()) + 16;
        return (4L << 20) + 16 * jobs + 4L * 16 * (maxBatch + maxRows) + 8L * (2L * maxRows + stageRows)
                + 4L * (scratchPages + maxRows) + 8 * pageIds;
    }

    // ------------------------------------------------------------------------------------
    // sequences

    /** One sequence's share: key and value page tables (page size P) and a tail slot. */
    public final class Seq {
        public final PagePool.Table keys, values, slot;

        Seq(long worstCaseTokens) {
            this.keys = keyPages.open((long) KittyFlush.keyPages(config, worstCaseTokens) * config.pageSize());
            try {
                this.values = valuePages.open((long) KittyFlush.valuePages(config, worstCaseTokens) * config.pageSize());
                try {
                    this.slot = slots.open(1);
                    slot.ensure(1);
                } catch (RuntimeException e) {
                    values.release();
                    throw e;
                }
            } catch (RuntimeException e) {
                keys.release();
                throw e;
            }
        }

        public int slotId() {
            return slot.page(0);
        }

        public KittyCache cache() {
            return KittyCache.this;
        }

        public long bytes(int length) {
            return keys.count() * memory.keyPageBytes() + values.count() * memory.valuePageBytes() + memory.slotBytes();
        }

        public void release() {
            keys.release();
            values.release();
            slot.release();
        }
    }

    public boolean fits(long worstCaseTokens) {
        return slots.fits(1) && keyPages.fits((long) KittyFlush.keyPages(config, worstCaseTokens) * config.pageSize())
                && valuePages.fits((long) KittyFlush.valuePages(config, worstCaseTokens) * config.pageSize());
    }

    public Seq open(long worstCaseTokens) {
        if (!fits(worstCaseTokens)) {
            throw new IllegalStateException(kv.describe() + " pool: a sequence of up to " + worstCaseTokens + " tokens needs "
                    + memory.sequenceBytes(worstCaseTokens) + " bytes (a tail slot, " + KittyFlush.keyPages(config, worstCaseTokens)
                    + " key and " + KittyFlush.valuePages(config, worstCaseTokens) + " value pages); free: " + slots.availablePages()
                    + " slots, " + keyPages.availablePages() + " key and " + valuePages.availablePages() + " value pages");
        }
        return new Seq(worstCaseTokens);
    }

    public long maxSequences(long tokens) {
        return memory.maxSequences(sizing, tokens);
    }

    public long bytes() {
        return arena.capacity();
    }

    // ------------------------------------------------------------------------------------
    // a step

    /** A planned step: its device arrays (valid until the next step) and its launch shapes. */
    public final class Step {
        public final KittyStepPlan plan;
        public CUdeviceptr info, seqPt, pageTable, histPiece, histTok, histKeyTab, histValueTab, stagePiece, stageTok;
        public CUdeviceptr meta, decKeyTab, decValueTab, decRows, keyJobs, valueJobs;
        public KittyAttentionPlan attention;
        public int keyJobsPerLayer, valueJobsPerLayer;
        /** Bytes one layer's decode attention reads: packed pages, and fp16 rows (sink, key buffer, value ring). */
        public long decodePackedBytes, decodeFp16Bytes;

        Step(KittyStepPlan plan) {
            this.plan = plan;
        }
    }

    /**
     * Plans and uploads a step (one copy): claims the pages the step's flush will make, lays
     * out scratch pages and staging rows, builds the decode batch and the quantize jobs of
     * every layer. Call after the previous step's uploads have left the staging buffer.
     */
    public Step prepare(List<Seq> seqs, int[] l0, int[] n, int[] row0) {
        KittyStepPlan p = KittyStepPlan.of(config, l0, n, row0, scratchPages, stageRows);
        Step s = new Step(p);
        int pieces = seqs.size();
        int[] info = p.info();
        List<int[]> histKeys = new ArrayList<>();
        List<int[]> histValues = new ArrayList<>();
        int hk = 0;
        int hv = 0;
        KittySequenceTable decode = new KittySequenceTable(tail);
        int[] decRows = new int[Math.max(1, p.decodeCount())];
        for (int j = 0; j < pieces; j++) {
            Seq q = seqs.get(j);
            int o = KittyStepPlan.INFO_INTS * j;
            info[o + 8] = q.slotId();
            int[] kids = q.keys.pages();
            int[] vids = q.values.pages();
            if (kids.length != info[o + 2] || vids.length != info[o + 3]) {
                throw new IllegalStateException("kitty sequence holds " + kids.length + "/" + vids.length
                        + " key/value pages, its length says " + info[o + 2] + "/" + info[o + 3]);
            }
            if (info[o + 11] == 1) {
                info[o + 9] = hk;
                info[o + 10] = hv;
                histKeys.add(kids);
                histValues.add(vids);
                hk += kids.length;
                hv += vids.length;
            } else {
                decRows[info[o + 13]] = row0[j];
                decode.add(l0[j] + 1, kids, vids, q.slotId());
            }
            // the pages this step's flush makes
            q.keys.ensure((long) info[o + 4] * config.pageSize());
            q.values.ensure((long) info[o + 5] * config.pageSize());
        }
        // quantize jobs of every layer: [layer][job] (src, dst)
        int kjobs = p.keyJobCount();
        int vjobs = p.valueJobCount();
        long[] kj = new long[2 * kjobs * layers];
        long[] vj = new long[2 * vjobs * layers];
        long rowBytes = (long) kvw * 2;
        long kpl = (long) keyLayout.bytes() * kvHeads;
        long vpl = (long) valueLayout.bytes() * kvHeads;
        int ki = 0;
        int vi = 0;
        for (int j = 0; j < pieces; j++) {
            Seq q = seqs.get(j);
            int o = KittyStepPlan.INFO_INTS * j;
            boolean chunk = info[o + 11] == 1;
            for (int page = info[o + 2]; page < info[o + 4]; page++) {
                long start = KittyFlush.pageStart(config, page);
                for (int l = 0; l < layers; l++) {
                    long src = chunk ? stageKAt + (info[o + 7] + start - info[o + 6]) * rowBytes
                            : fpKeysAt[l] + tail.keyOffset(q.slotId(), tail.keyPageFirstRow(page));
                    kj[2 * (l * kjobs + ki)] = src;
                    kj[2 * (l * kjobs + ki) + 1] = keyPoolAt[l] + q.keys.page(page) * kpl;
                }
                ki++;
            }
            for (int page = info[o + 3]; page < info[o + 5]; page++) {
                long start = KittyFlush.pageStart(config, page);
                for (int l = 0; l < layers; l++) {
                    long src = chunk ? stageVAt + (info[o + 7] + start - info[o + 6]) * rowBytes
                            : fpValuesAt[l] + tail.valueOffset(q.slotId(), tail.valuePageFirstRow(page));
                    vj[2 * (l * vjobs + vi)] = src;
                    vj[2 * (l * vjobs + vi) + 1] = valuePoolAt[l] + q.values.page(page) * vpl;
                }
                vi++;
            }
        }
        s.keyJobsPerLayer = kjobs;
        s.valueJobsPerLayer = vjobs;
        s.decodePackedBytes = kvHeads * (decode.keyPagesRead() * keyLayout.bytes() + decode.valuePagesRead() * valueLayout.bytes());
        s.decodeFp16Bytes = kvHeads * decode.fp16RowsRead() * headDim * KittyFpTail.BYTES_PER_ELEMENT;
        if (p.decodeCount() > 0) {
            KittyAttentionPlan a = KittyAttentionPlan.plan(decode.lengths(), config.sink(), kvHeads, paddedHeads, headDim, smCount,
                    residentBlocks, attention.fill());
            s.attention = fitPartials(a, decode.lengths());
        }
        pack.reset();
        s.info = pack.ints(info, info.length);
        s.seqPt = pack.ints(p.seqPt(), p.seqPt().length);
        s.pageTable = pack.ints(p.pageTable(), p.pageTable().length);
        s.histPiece = pack.ints(p.histPiece(), p.histPiece().length);
        s.histTok = pack.ints(p.histTok(), p.histTok().length);
        s.histKeyTab = pack.ints(concat(histKeys, hk), Math.max(1, hk));
        s.histValueTab = pack.ints(concat(histValues, hv), Math.max(1, hv));
        s.stagePiece = pack.ints(p.stagePiece(), p.stagePiece().length);
        s.stageTok = pack.ints(p.stageTok(), p.stageTok().length);
        int[] meta = decode.metadata();
        s.meta = pack.ints(meta, meta.length);
        s.decKeyTab = pack.ints(decode.keyTable(), decode.keyTable().length);
        s.decValueTab = pack.ints(decode.valueTable(), decode.valueTable().length);
        s.decRows = pack.ints(decRows, decRows.length);
        s.keyJobs = pack.longs(kj, kj.length);
        s.valueJobs = pack.longs(vj, vj.length);
        host.toDevice(params, pack.used(), ctx.stream());
        return s;
    }

    /** Makes sure the decode plan's partial results fit the workspace (more tiles per split if not). */
    private KittyAttentionPlan fitPartials(KittyAttentionPlan a, int[] lengths) {
        int batch = lengths.length;
        if ((long) batch * a.maxSplits() <= partialCap) {
            return a;
        }
        int maxTiles = 1;
        for (int len : lengths) {
            maxTiles = Math.max(maxTiles, KittyAttentionPlan.tiles(len, config.sink()));
        }
        int splits = Math.max(1, partialCap / batch);
        int tps = (maxTiles + splits - 1) / splits;
        return new KittyAttentionPlan(batch, kvHeads, paddedHeads, headDim, config.sink(), tps, (maxTiles + tps - 1) / tps);
    }

    private static int[] concat(List<int[]> parts, int total) {
        int[] out = new int[Math.max(1, total)];
        int at = 0;
        for (int[] a : parts) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    /** History of the chunks into scratch + staging; new rows into staging or rings; decode queries gathered. */
    public void beforeAttention(Step s, int l, CUdeviceptr qkv, int qkvw, CUdeviceptr rowSeq, CUdeviceptr positions, int rows) {
        int S = config.sink();
        int P = config.pageSize();
        int R = tail.valueRing();
        KittyStepPlan p = s.plan;
        if (p.histTok().length > 0 && p.histRows() > 0) {
            k.launch("kitty_gather_history", p.histRows(), kvHeads, 128, 0, new KernelArgs().ptr(s.info).ptr(s.histPiece)
                    .ptr(s.histTok).ptr(s.histKeyTab).ptr(s.histValueTab).ptr(keyPool[l]).ptr(valuePool[l]).i32(keyLayout.bytes())
                    .i32(valueLayout.bytes()).i32(keyLayout.boosted()).ptr(fpKeys[l]).ptr(fpValues[l]).i32(S).i32(P).i32(R)
                    .i32(kvHeads).i32(headDim).ptr(s.pageTable).ptr(scratchK).ptr(scratchV).ptr(stageK).ptr(stageV));
        }
        k.launch("kitty_new_rows", rows, kvHeads, 128, 0, new KernelArgs().ptr(s.info).ptr(rowSeq).ptr(positions)
                .ptr(s.pageTable).ptr(scratchK).ptr(scratchV).i32(S).i32(P).i32(R).i32(kvHeads).i32(headDim).ptr(fpKeys[l])
                .ptr(fpValues[l]).ptr(stageK).ptr(stageV).ptr(qkv).i32(qkvw).i32(heads).i32(paddedGroup).ptr(qDec));
    }

    /**
     * Picks the decode-attention kernel (the engine's {@code kitty.engine.cuda.kitty-attention};
     * benchmarks and self-tests switch it to compare). Its residency sizes the next steps' splits.
     */
    public void selectAttention(KittyAttentionVariant v) {
        this.attention = v;
        this.residentBlocks = k.residentBlocks(kernels.attention(v), v.threads(),
                kernels.attentionSharedBytes(v, keyLayout.boosted()));
    }

    public KittyAttentionVariant attention() {
        return attention;
    }

    /** Blocks of the decode-attention kernel one SM holds at once. */
    public int residentBlocks() {
        return residentBlocks;
    }

    /** Split-KV Kitty attention of the decode rows, merged and written as the o_proj operand rows. */
    public void decodeAttention(Step s, int l, CUdeviceptr hi, CUdeviceptr lo) {
        KittyAttentionPlan a = s.attention;
        if (a == null) {
            return;
        }
        attendDecodeRows(s, l, true);
        k.launch("kitty_rows_out", a.batch(), 1, 256, 0, new KernelArgs().ptr(outDec).ptr(s.decRows).i32(heads).i32(kvHeads)
                .i32(headDim).i32(paddedGroup).ptr(hi).ptr(lo));
    }

    /** The split-KV kernel over layer {@code l}'s pages for the step's decode rows, and (if asked) the combine. */
    private void attendDecodeRows(Step s, int l, boolean combine) {
        KittyAttentionPlan a = s.attention;
        int[] g = a.attentionGrid();
        k.launch(kernels.attention(attention), g[0], g[1], g[2], attention.threads(),
                kernels.attentionSharedBytes(attention, keyLayout.boosted()), new KernelArgs().ptr(qDec)
                .ptr(keyPool[l]).ptr(valuePool[l]).ptr(s.decKeyTab).ptr(s.decValueTab).ptr(s.meta).ptr(fpKeys[l]).ptr(fpValues[l])
                .ptr(partAcc).ptr(partMl).i32(kvHeads).i32(config.sink()).i32(tail.valueRing()).i32(keyLayout.boosted())
                .i32(a.tilesPerSplit()).i32(a.maxSplits()).f32(a.scaleLog2()));
        if (combine) {
            int[] cg = a.combineGrid();
            k.launch(KittyKernels.COMBINE, cg[0], cg[1], KittyKernels.COMBINE_THREADS, 0, new KernelArgs().ptr(partAcc)
                    .ptr(partMl).ptr(s.meta).ptr(outDec).i32(headDim).i32(config.sink()).i32(a.tilesPerSplit())
                    .i32(a.maxSplits()));
        }
    }

    /** The flush: this layer's new pages (one key and one value launch), then a chunk's fp rows into its rings. */
    public void afterAttention(Step s, int l) {
        int P = config.pageSize();
        if (s.keyJobsPerLayer > 0) {
            k.launch(KittyKernels.quantizeKeys(true), s.keyJobsPerLayer, kvHeads, KittyPageJobs.keyThreads(keyLayout),
                    KittyPageJobs.keySharedBytes(keyLayout), new KernelArgs()
                            .ptr(s.keyJobs.withByteOffset((long) KittyPageJobs.JOB_BYTES * l * s.keyJobsPerLayer)).i32(P).i32(headDim)
                            .i32(keyLayout.boosted()).i32(kvw).i32(headDim));
        }
        if (s.valueJobsPerLayer > 0) {
            k.launch(KittyKernels.quantizeValues(true), s.valueJobsPerLayer, kvHeads, KittyPageJobs.VALUE_THREADS,
                    KittyPageJobs.valueSharedBytes(valueLayout), new KernelArgs()
                            .ptr(s.valueJobs.withByteOffset((long) KittyPageJobs.JOB_BYTES * l * s.valueJobsPerLayer)).i32(P)
                            .i32(headDim).i32(kvw).i32(headDim));
        }
        if (s.plan.stageTok().length > 0 && s.plan.stageCount() > 0) {
            k.launch("kitty_stage_to_rings", s.plan.stageCount(), kvHeads, 128, 0, new KernelArgs().ptr(s.info).ptr(s.stagePiece)
                    .ptr(s.stageTok).ptr(stageK).ptr(stageV).i32(config.sink()).i32(P).i32(tail.valueRing()).i32(kvHeads)
                    .i32(headDim).ptr(fpKeys[l]).ptr(fpValues[l]));
        }
    }

    // ------------------------------------------------------------------------------------
    // benchmark support

    /**
     * Fills every layer's tails with seeded random fp16 values and every page with valid
     * packed pages (a few made by the quantize kernels from those rows, copied over the pool),
     * so benchmark sequences that claim pages without a prefill cost what real ones cost.
     */
    public void fillRandom(long seed) {
        int seedPages = 64;
        for (int l = 0; l < layers; l++) {
            long ke = sizing.slots() * tail.keySlotBytes() / 2;
            long ve = sizing.slots() * tail.valueSlotBytes() / 2;
            k.launch("fill_f16_uniform", 2048, 1, 256, 0, new KernelArgs().ptr(fpKeys[l]).i64(ke).i64(seed + 2L * l).f32(0f).f32(0.5f));
            k.launch("fill_f16_uniform", 2048, 1, 256, 0, new KernelArgs().ptr(fpValues[l]).i64(ve).i64(seed + 2L * l + 1).f32(0f).f32(0.5f));
        }
        long kpl = (long) keyLayout.bytes() * kvHeads;
        long vpl = (long) valueLayout.bytes() * kvHeads;
        int kn = Math.min(seedPages, sizing.keyPages());
        int vn = Math.min(seedPages, sizing.valuePages());
        long[] kj = new long[2 * kn * layers];
        long[] vj = new long[2 * vn * layers];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < kn; i++) {
                // slot i's ring rows (different data per page while there are slots)
                int slot = i % sizing.slots();
                kj[2 * (l * kn + i)] = fpKeysAt[l] + tail.keyOffset(slot, config.sink());
                kj[2 * (l * kn + i) + 1] = keyPoolAt[l] + i * kpl;
            }
            for (int i = 0; i < vn; i++) {
                int slot = i % sizing.slots();
                vj[2 * (l * vn + i)] = fpValuesAt[l] + tail.valueOffset(slot, config.sink());
                vj[2 * (l * vn + i) + 1] = valuePoolAt[l] + i * vpl;
            }
        }
        ctx.synchronize();
        pack.reset();
        CUdeviceptr kjd = pack.longs(kj, kj.length);
        CUdeviceptr vjd = pack.longs(vj, vj.length);
        host.toDevice(params, pack.used(), ctx.stream());
        for (int l = 0; l < layers; l++) {
            k.launch(KittyKernels.quantizeKeys(true), kn, kvHeads, KittyPageJobs.keyThreads(keyLayout),
                    KittyPageJobs.keySharedBytes(keyLayout), new KernelArgs().ptr(kjd.withByteOffset(16L * l * kn))
                            .i32(config.pageSize()).i32(headDim).i32(keyLayout.boosted()).i32(kvw).i32(headDim));
            k.launch(KittyKernels.quantizeValues(true), vn, kvHeads, KittyPageJobs.VALUE_THREADS,
                    KittyPageJobs.valueSharedBytes(valueLayout), new KernelArgs().ptr(vjd.withByteOffset(16L * l * vn))
                            .i32(config.pageSize()).i32(headDim).i32(kvw).i32(headDim));
            replicate(keyPool[l], kn, sizing.keyPages(), kpl);
            replicate(valuePool[l], vn, sizing.valuePages(), vpl);
        }
        ctx.synchronize();
    }

    /** Benchmarks: the decode queries of the next attention launches, seeded random (a probe has no qkv step before it). */
    void fillDecodeQueries(long seed) {
        k.launch("fill_f32_uniform", 256, 1, 256, 0, new KernelArgs().ptr(qDec).i64((long) maxBatch * paddedHeads * headDim)
                .i64(seed).f32(0f).f32(1f));
    }

    /** Benchmarks: the decode attention of step {@code s} over layer {@code l}'s pages, without writing any row back. */
    void attendOnly(Step s, int l, boolean combine) {
        if (s.attention != null) {
            attendDecodeRows(s, l, combine);
        }
    }

    /** Self-tests: the combined attention output of the last decode launch, [batch][padded heads][D]. */
    float[] decodeOutput(int batch) {
        int n = batch * paddedHeads * headDim;
        byte[] raw = read(outDec, 4 * n);
        float[] out = new float[n];
        java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    public int layers() {
        return layers;
    }

    /** Copies pages [0, made) over the rest of a pool, doubling each time. */
    private void replicate(CUdeviceptr pool, int made, int total, long pageBytes) {
        for (int n = Math.max(1, made); n < total; n *= 2) {
            long count = Math.min(n, total - n);
            jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(pool.withByteOffset(n * pageBytes), pool, count * pageBytes, ctx.stream());
        }
    }

    /** A sequence that already holds {@code length} tokens: its pages and slot are claimed, their content is the pools'. */
    public Seq synthetic(int length, long worstCaseTokens) {
        Seq q = open(worstCaseTokens);
        q.keys.ensure((long) KittyFlush.keyPages(config, length) * config.pageSize());
        q.values.ensure((long) KittyFlush.valuePages(config, length) * config.pageSize());
        return q;
    }

    // ------------------------------------------------------------------------------------
    // inspection (self-test)

    /** Bytes of key page {@code page} (index in the sequence) of one layer and kv head, read back. */
    public byte[] keyPageBytes(Seq q, int layer, int page, int head) {
        long at = ((long) q.keys.page(page) * kvHeads + head) * keyLayout.bytes();
        return read(keyPool[layer].withByteOffset(at), keyLayout.bytes());
    }

    public byte[] valuePageBytes(Seq q, int layer, int page, int head) {
        long at = ((long) q.values.page(page) * kvHeads + head) * valueLayout.bytes();
        return read(valuePool[layer].withByteOffset(at), valueLayout.bytes());
    }

    /** The first {@code rows} staging rows as floats ([row][kvHeads][D], the last layer's after a step). */
    public float[] stagedKeys(int rows, boolean values) {
        byte[] raw = read(values ? stageV : stageK, rows * kvw * 2);
        float[] out = new float[rows * kvw];
        for (int i = 0; i < out.length; i++) {
            out[i] = kittyspark.kvquant.Fp16.toFloat((short) ((raw[2 * i] & 0xff) | (raw[2 * i + 1] & 0xff) << 8));
        }
        return out;
    }

    private byte[] read(CUdeviceptr src, int n) {
        ctx.synchronize();
        byte[] out = new byte[n];
        jcuda.driver.JCudaDriver.cuMemcpyDtoH(Pointer.to(out), src, n);
        return out;
    }

    @Override
    public void close() {
        host.close();
        arena.close();
    }
}
