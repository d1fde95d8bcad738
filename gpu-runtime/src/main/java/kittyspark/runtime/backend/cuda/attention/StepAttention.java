package kittyspark.runtime.backend.cuda.attention;

import jcuda.driver.CUdeviceptr;

/**
 * One step's attention, as the layer loop sees it: where each layer's new K/V rows go, and
 * the attention of the step's query rows into the o_proj operand. The paged fp16 cache and
 * the Kitty pages are the two implementations; the layer loop is written once for both.
 */
public interface StepAttention {
    /** Where the rope/qk-norm kernel writes a layer's new K and V rows: fp16 pages through a page table. */
    record KvTarget(CUdeviceptr seqPageOffsets, CUdeviceptr pageTable, CUdeviceptr keys, CUdeviceptr values) {
    }

    KvTarget kvTarget(int layer);

    /**
     * Attention of layer {@code layer}'s query rows (in {@code qkv}, rows of width {@code qkvWidth})
     * into the operand planes of the next GEMM ({@code outLo} null in plain bf16).
     */
    void attend(int layer, CUdeviceptr qkv, int qkvWidth, CUdeviceptr outHi, CUdeviceptr outLo);

    /**
     * What, besides the step's rows, decides this attention's launches (kernels, grids, the
     * device addresses of its arrays), for replaying the step as a CUDA graph; null when its
     * launches cannot be replayed.
     */
    default Object replayKey() {
        return null;
    }
}
