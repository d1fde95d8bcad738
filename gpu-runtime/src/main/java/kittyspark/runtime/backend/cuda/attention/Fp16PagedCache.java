package kittyspark.runtime.backend.cuda.attention;

import java.util.List;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.driver.DeviceArena;
import kittyspark.runtime.backend.cuda.driver.HostPack;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.pages.PagePool;
import kittyspark.runtime.checkpoint.ModelConfig;

/**
 * The fp16 KV cache on the device: per layer a K and a V pool of {@link #PAGE_TOKENS}-token
 * pages, a {@link PagePool} that hands them to sequences, and the step's attention over them.
 */
public final class Fp16PagedCache {
    public static final int PAGE_TOKENS = 16;

    private final PagedAttention attention;
    private final int layers, kvHeads, headDim;
    private final PagePool pool;
    private final CUdeviceptr[] keys, values;

    /** Device bytes of one page in every layer (K and V, fp16). */
    public static long bytesPerPage(ModelConfig c) {
        return 2L * pageBytesPerLayer(c) * c.numLayers();
    }

    private static long pageBytesPerLayer(ModelConfig c) {
        return (long) c.numKvHeads() * PAGE_TOKENS * c.headDim() * 2;
    }

    /** Takes {@code pages} pages of every layer from {@code arena}. */
    public Fp16PagedCache(ModelConfig c, DeviceArena arena, int pages, PagedAttention attention) {
        this.attention = attention;
        this.layers = c.numLayers();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.keys = new CUdeviceptr[layers];
        this.values = new CUdeviceptr[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = arena.take(pages * pageBytesPerLayer(c));
            values[l] = arena.take(pages * pageBytesPerLayer(c));
        }
        this.pool = new PagePool(pages, PAGE_TOKENS, bytesPerPage(c));
    }

    /** The launches of a step's fp16 attention (kernels, grids, item counts) and the piece count that places its packed arrays. */
    private record ReplayKey(List<PagedAttention.Part> parts, int pieces) {
    }

    public PagePool pool() {
        return pool;
    }

    /**
     * Claims the pages the step's pieces grow into and packs the page tables and attention plan.
     *
     * @param tables each piece's sequence's page table
     * @param pos0   each piece's first position (its sequence's length before the step)
     * @param n      each piece's rows
     */
    public StepAttention prepare(List<PagePool.Table> tables, int[] pos0, int[] n, int rows, HostPack pack) {
        int pieces = tables.size();
        int pageCount = 0;
        for (int j = 0; j < pieces; j++) {
            pageCount += pool.pagesForTokens(pos0[j] + n[j]);
        }
        int[] pageTable = new int[pageCount];
        int[] seqPt = new int[pieces];
        SplitPlanner.Piece[] plan = new SplitPlanner.Piece[pieces];
        int pt = 0;
        int row0 = 0;
        for (int j = 0; j < pieces; j++) {
            PagePool.Table t = tables.get(j);
            t.ensure(pos0[j] + n[j]);
            seqPt[j] = pt;
            for (int g = 0; g < pool.pagesForTokens(pos0[j] + n[j]); g++) {
                pageTable[pt++] = t.page(g);
            }
            plan[j] = new SplitPlanner.Piece(j, row0, n[j], pos0[j]);
            row0 += n[j];
        }
        PagedAttention.Launch launch = attention.plan(plan, rows);
        // The page table goes last: every other array's address then depends only on the
        // counts in replayKey, while sequences grow pages from step to step.
        CUdeviceptr dSeqPt = pack.ints(seqPt, seqPt.length);
        CUdeviceptr items = pack.ints(launch.plan().items(), 8 * launch.plan().itemCount());
        CUdeviceptr pfirst = pack.ints(launch.plan().pfirst(), rows);
        CUdeviceptr nsplit = pack.ints(launch.plan().nsplit(), rows);
        CUdeviceptr dPages = pack.ints(pageTable, pageTable.length);
        Object key = new ReplayKey(launch.parts(), pieces);
        return new StepAttention() {
            @Override
            public Object replayKey() {
                return key;
            }

            @Override
            public KvTarget kvTarget(int layer) {
                return new KvTarget(dSeqPt, dPages, keys[layer], values[layer]);
            }

            @Override
            public void attend(int layer, CUdeviceptr qkv, int qkvWidth, CUdeviceptr outHi, CUdeviceptr outLo) {
                attention.launch(launch, rows, qkv, qkvWidth, items, pfirst, nsplit, dSeqPt, dPages, keys[layer],
                        values[layer], outHi, outLo);
            }
        };
    }

    /**
     * Fills every layer's pools with seeded random fp16 values (std 0.5): a benchmark's long
     * contexts then cost what real ones cost without prefilling them.
     */
    public void fillRandom(Kernels k, long seed) {
        long elements = (long) pool.totalPages() * kvHeads * PAGE_TOKENS * headDim;
        for (int l = 0; l < layers; l++) {
            k.launch("fill_f16_uniform", 2048, 1, 256, 0, new KernelArgs().ptr(keys[l]).i64(elements).i64(seed + 2L * l).f32(0f).f32(0.5f));
            k.launch("fill_f16_uniform", 2048, 1, 256, 0, new KernelArgs().ptr(values[l]).i64(elements).i64(seed + 2L * l + 1).f32(0f).f32(0.5f));
        }
    }

    /** Arena bytes a cache of {@code pages} pages takes (each layer's two pools aligned). */
    public static long arenaBytes(ModelConfig c, int pages) {
        return 2L * c.numLayers() * DeviceArena.align(pages * pageBytesPerLayer(c));
    }
}
