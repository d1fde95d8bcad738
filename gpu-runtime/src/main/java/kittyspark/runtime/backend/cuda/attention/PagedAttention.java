package kittyspark.runtime.backend.cuda.attention;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.checkpoint.ModelConfig;

/**
 * The fp16 paged attention kernels of attention.cu: which kernel a step takes (decode rows,
 * prompt rows, or tensor-core prefill in bf16 mode), its work items (a {@link SplitPlanner}),
 * and the launch of partials plus their combine into the o_proj operand. Used over the fp16
 * page pool and over Kitty's fp16 scratch pages for prompt chunks.
 */
public final class PagedAttention {
    /** Query rows per block of the tensor-core prefill attention (4 warps x 16). */
    public static final int TENSOR_CORE_TILE_ROWS = 64;
    /** Keys per chunk of the tensor-core prefill kernel's two-stage shared-memory ring. */
    static final int TENSOR_CORE_CHUNK = 64;
    /** Threads per attention block. */
    private static final int THREADS = 128;
    /** GQA group sizes that have a decode kernel (attention.cu, attn_decode_d*_g*). */
    private static final int[] DECODE_GROUPS = {1, 2, 3, 4, 6, 8};
    /**
     * Decode blocks wanted per requested block: the decode kernel holds about three blocks per
     * multiprocessor, so four waves of them even out sequences of unequal length.
     */
    static final int DECODE_BLOCKS_PER_BLOCK = 3;
    /** Warps per block of the decode kernels, each walking its own 32-key chunks. */
    static final int DECODE_WARPS = 4;
    /**
     * Fewest keys of a decode split: one 32-key chunk per warp of the decode kernel. A few rows
     * over a 2K context then still spread over every multiprocessor (with 256 a batch-1 step
     * had 8 splits per kv head, 64 blocks for 132 multiprocessors, each walking 256 keys).
     */
    static final int DECODE_MIN_SPLIT_KEYS = DECODE_WARPS * SplitPlanner.CHUNK;

    /** One kernel launch of a step's attention: its items {@code [firstItem, firstItem + items)} of the plan. */
    public record Part(String kernel, int firstItem, int items, int blocksPerItem) {
    }

    /** A planned step: the work items of every row, and the launches (decode rows and prompt rows apart) that take them. */
    public record Launch(List<Part> parts, SplitPlanner.Plan plan) {
    }

    private final Kernels k;
    private final boolean split;
    private final int heads, kvHeads, headDim;
    private final float scale;
    private final String prefillKernel, decodeKernel, tensorCoreKernel;
    private final SplitPlanner prefillPlanner, decodePlanner, tensorCorePlanner;
    private final CUdeviceptr partO, partMl;
    /** Dynamic shared memory of the kernels that take it, and whether the driver has been told yet. */
    private final Map<String, Integer> sharedBytes = new HashMap<>();
    private final Set<String> sharedAllowed = new HashSet<>();

    /**
     * @param split       operands as hi + lo planes (fp32 attention) rather than bf16 (tensor-core prefill)
     * @param blocks      blocks wanted in flight
     * @param partialRows capacity of the partial workspace {@code partO}/{@code partMl}, in rows
     */
    public PagedAttention(ModelConfig c, Kernels k, boolean split, int blocks, int partialRows, CUdeviceptr partO,
                          CUdeviceptr partMl) {
        String problem = unsupported(c);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        this.k = k;
        this.split = split;
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads;
        int ppw = pairsPerWarp(headDim);
        this.prefillKernel = "attn_partial_d" + headDim + "_p" + ppw;
        this.decodeKernel = decodeKernel(headDim, group, ppw, split);
        this.tensorCoreKernel = "attn_prefill_tc_d" + headDim;
        this.prefillPlanner = new SplitPlanner(Math.max(1, 4 * ppw / group), blocks, kvHeads, partialRows);
        this.decodePlanner = decodeKernel.startsWith("attn_decode_")
                ? new SplitPlanner(1, DECODE_BLOCKS_PER_BLOCK * blocks, kvHeads, partialRows, DECODE_MIN_SPLIT_KEYS)
                : new SplitPlanner(1, DECODE_BLOCKS_PER_BLOCK * blocks, kvHeads, partialRows);
        this.tensorCorePlanner = new SplitPlanner(TENSOR_CORE_TILE_ROWS, blocks, heads, partialRows);
        this.partO = partO;
        this.partMl = partMl;
        sharedBytes.put(tensorCoreKernel, tensorCoreSharedBytes(headDim));
        if (!split && decodeKernel.startsWith("attn_decode_tc_")) {
            sharedBytes.put(decodeKernel, decodeTensorCoreSharedBytes(headDim));
        }
    }

    /**
     * Dynamic shared memory of the tensor-core prefill kernel (attention.cu tc_shared_bytes,
     * which traps on less): two stages of a key chunk (rows padded by 32 halves) and a value
     * chunk (padded by 8), fp16.
     */
    static int tensorCoreSharedBytes(int headDim) {
        return 2 * TENSOR_CORE_CHUNK * ((headDim + 32) + (headDim + 8)) * 2;
    }

    /**
     * Dynamic shared memory of the tensor-core decode kernel (attention.cu dec_tc_shared_bytes,
     * which traps on less): per warp a 32-key chunk of keys and one of values (rows padded by 8
     * halves), fp16, then every warp's (max, sum) of up to 8 heads.
     */
    static int decodeTensorCoreSharedBytes(int headDim) {
        return DECODE_WARPS * 2 * SplitPlanner.CHUNK * (headDim + 8) * 2 + 2 * DECODE_WARPS * 8 * 4;
    }

    /** Why the kernels cannot run a model of this shape, or null. */
    public static String unsupported(ModelConfig c) {
        int headDim = c.headDim();
        if (headDim != 32 && headDim != 64 && headDim != 128) {
            return "the CUDA attention kernels take head_dim 32, 64 or 128, not " + headDim;
        }
        if (c.numHeads() / c.numKvHeads() > 4 * pairsPerWarp(headDim)) {
            return "GQA groups of " + c.numHeads() / c.numKvHeads() + " query heads are too large for the CUDA attention kernel";
        }
        return null;
    }

    /**
     * The kernel of a step's decode rows: the warp-per-chunk decode kernel where one exists for
     * the group size (on the tensor cores in bf16 mode, fp32 on the CUDA cores in split mode),
     * else the staged kernel of the prompt rows.
     */
    static String decodeKernel(int headDim, int group, int pairsPerWarp, boolean split) {
        for (int g : DECODE_GROUPS) {
            if (g == group) {
                return (split ? "attn_decode_d" : "attn_decode_tc_d") + headDim + "_g" + group;
            }
        }
        return "attn_partial_d" + headDim + "_p" + pairsPerWarp;
    }

    /** Every kernel {@link #decodeKernel} can name, for the PTX check. */
    static List<String> decodeKernels() {
        List<String> names = new ArrayList<>();
        for (int d : new int[] {32, 64, 128}) {
            for (int g = 1; g <= 4 * pairsPerWarp(d); g++) {
                for (boolean split : new boolean[] {true, false}) {
                    names.add(decodeKernel(d, g, pairsPerWarp(d), split));
                }
            }
        }
        return names;
    }

    private static int pairsPerWarp(int headDim) {
        return headDim == 128 ? 6 : 8;
    }

    /**
     * The launches for {@code pieces} of a step of {@code rows} rows: decode rows (one new
     * token) take the decode kernel, split over their keys; prompt rows the prompt kernel (on
     * the tensor cores in bf16 mode, fp32 in split mode). A mixed step makes both launches,
     * so that its decode rows are not tiles of a prompt kernel reading their whole context
     * once per query head.
     */
    public Launch plan(SplitPlanner.Piece[] pieces, int rows) {
        List<SplitPlanner.Piece> decode = new ArrayList<>();
        List<SplitPlanner.Piece> prompt = new ArrayList<>();
        for (SplitPlanner.Piece p : pieces) {
            (p.nrows() == 1 ? decode : prompt).add(p);
        }
        // bf16 mode prefills on the tensor cores (fp16 Q and P); split mode keeps fp32 attention.
        SplitPlanner promptPlanner = split ? prefillPlanner : tensorCorePlanner;
        String promptKernel = split ? prefillKernel : tensorCoreKernel;
        // The tensor-core kernel takes one query head per block, the others one KV head's group.
        int promptBlocks = split ? kvHeads : heads;
        SplitPlanner.Plan d = null;
        SplitPlanner.Plan p = null;
        List<Part> parts = new ArrayList<>(2);
        if (!prompt.isEmpty()) {
            p = promptPlanner.plan(prompt.toArray(new SplitPlanner.Piece[0]), rows);
            parts.add(new Part(promptKernel, 0, p.itemCount(), promptBlocks));
        }
        if (!decode.isEmpty()) {
            d = decodePlanner.plan(decode.toArray(new SplitPlanner.Piece[0]), rows, p == null ? 0 : p.partialRows());
            parts.add(new Part(decodeKernel, p == null ? 0 : p.itemCount(), d.itemCount(), kvHeads));
        }
        SplitPlanner.Plan plan = p == null ? d : d == null ? p : p.then(d);
        if (plan == null) {
            plan = decodePlanner.plan(pieces, rows);
        }
        return new Launch(List.copyOf(parts), plan);
    }

    /**
     * Partials of every work item over the pages, then their combine into the operand rows.
     *
     * @param items/pfirst/nsplit the launch's plan on the device
     */
    public void launch(Launch l, int rows, CUdeviceptr qkv, int qkvWidth, CUdeviceptr items, CUdeviceptr pfirst,
                       CUdeviceptr nsplit, CUdeviceptr seqPageOffsets, CUdeviceptr pageTable, CUdeviceptr keys,
                       CUdeviceptr values, CUdeviceptr outHi, CUdeviceptr outLo) {
        for (Part p : l.parts()) {
            int shared = sharedBytes.getOrDefault(p.kernel(), 0);
            // told at a kernel's first launch: a step's first sighting is never a graph capture
            if (shared > 0 && sharedAllowed.add(p.kernel())) {
                k.allowSharedMemory(p.kernel(), shared);
            }
            k.launch(p.kernel(), p.items(), p.blocksPerItem(), THREADS, shared, new KernelArgs().ptr(qkv).i32(qkvWidth)
                    .ptr(items.withByteOffset(4L * 8 * p.firstItem())).ptr(seqPageOffsets).ptr(pageTable).ptr(keys).ptr(values)
                    .i32(heads).i32(kvHeads).f32(scale).ptr(partO).ptr(partMl));
        }
        k.launch("attn_combine", rows, heads, headDim, 0, new KernelArgs().ptr(partO).ptr(partMl).ptr(pfirst).ptr(nsplit)
                .i32(heads).i32(headDim).ptr(outHi).ptr(split ? outLo : null));
    }
}
