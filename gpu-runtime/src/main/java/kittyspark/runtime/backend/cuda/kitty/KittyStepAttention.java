package kittyspark.runtime.backend.cuda.kitty;

import java.util.ArrayList;
import java.util.List;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.attention.PagedAttention;
import kittyspark.runtime.backend.cuda.attention.SplitPlanner;
import kittyspark.runtime.backend.cuda.attention.StepAttention;
import kittyspark.runtime.backend.cuda.driver.HostPack;

/**
 * A step's attention over quantized pages: the new K/V go to fp16 scratch pages (and from there
 * to staging rows or the fp16 tail), prompt chunks attend in full precision with the paged fp16
 * kernels over their scratch context, decode rows with the split-KV Kitty kernel, and after each
 * layer's attention the flush quantizes the pages that became full.
 */
public final class KittyStepAttention implements StepAttention {
    private final KittyCache cache;
    private final KittyCache.Step step;
    private final PagedAttention fp16;
    private final PagedAttention.Launch chunks;
    private final CUdeviceptr items, pfirst, nsplit, rowSeq, positions;
    private final int rows;

    private KittyStepAttention(KittyCache cache, KittyCache.Step step, PagedAttention fp16, PagedAttention.Launch chunks,
                               CUdeviceptr items, CUdeviceptr pfirst, CUdeviceptr nsplit, CUdeviceptr rowSeq,
                               CUdeviceptr positions, int rows) {
        this.cache = cache;
        this.step = step;
        this.fp16 = fp16;
        this.chunks = chunks;
        this.items = items;
        this.pfirst = pfirst;
        this.nsplit = nsplit;
        this.rowSeq = rowSeq;
        this.positions = positions;
        this.rows = rows;
    }

    /**
     * Plans and uploads the step's Kitty arrays (the cache's own copy) and packs the chunks'
     * fp16 attention plan into {@code pack}. Call after the previous step's copies have left
     * the staging buffers.
     *
     * @param l0       each piece's sequence length before the step
     * @param n        each piece's rows
     * @param rowSeq   the step's row -> piece index, on the device
     * @param positions the step's row positions, on the device
     */
    public static KittyStepAttention prepare(KittyCache cache, PagedAttention fp16, List<KittyCache.Seq> seqs, int[] l0,
                                             int[] n, int rows, HostPack pack, CUdeviceptr rowSeq, CUdeviceptr positions) {
        int[] row0 = new int[seqs.size()];
        List<SplitPlanner.Piece> chunkPieces = new ArrayList<>();
        int r = 0;
        for (int j = 0; j < seqs.size(); j++) {
            row0[j] = r;
            if (KittyStepPlan.isChunk(l0[j], n[j])) {
                chunkPieces.add(new SplitPlanner.Piece(j, r, n[j], l0[j]));
            }
            r += n[j];
        }
        KittyCache.Step step = cache.prepare(seqs, l0, n, row0);
        PagedAttention.Launch chunks = null;
        CUdeviceptr items = null;
        CUdeviceptr pfirst = null;
        CUdeviceptr nsplit = null;
        if (!chunkPieces.isEmpty()) {
            chunks = fp16.plan(chunkPieces.toArray(new SplitPlanner.Piece[0]), rows);
            items = pack.ints(chunks.plan().items(), 8 * chunks.plan().itemCount());
            pfirst = pack.ints(chunks.plan().pfirst(), rows);
            nsplit = pack.ints(chunks.plan().nsplit(), rows);
        }
        return new KittyStepAttention(cache, step, fp16, chunks, items, pfirst, nsplit, rowSeq, positions, rows);
    }

    @Override
    public KvTarget kvTarget(int layer) {
        return new KvTarget(step.seqPt, step.pageTable, cache.scratchK, cache.scratchV);
    }

    @Override
    public void attend(int layer, CUdeviceptr qkv, int qkvWidth, CUdeviceptr outHi, CUdeviceptr outLo) {
        cache.beforeAttention(step, layer, qkv, qkvWidth, rowSeq, positions, rows);
        if (chunks != null) {
            fp16.launch(chunks, rows, qkv, qkvWidth, items, pfirst, nsplit, step.seqPt, step.pageTable, cache.scratchK,
                    cache.scratchV, outHi, outLo);
        }
        cache.decodeAttention(step, layer, outHi, outLo);
        cache.afterAttention(step, layer);
    }
}
