package kittyspark.runtime.backend.cuda;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.attention.StepAttention;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.gemm.Gemm;
import kittyspark.runtime.checkpoint.ModelConfig;

/**
 * The transformer's layers on the device, written once: embeddings in, per layer RMSNorm, the
 * fused QKV GEMM, q/k norm + RoPE + KV write, attention (a {@link StepAttention}: fp16 pages or
 * Kitty pages), o_proj into the fp32 residual, RMSNorm, gate/up GEMM, SiLU gate, down_proj into
 * the residual; then the final norm and LM head for the rows whose logits are wanted.
 */
final class LayerLoop {
    /** A step's rows on the device: token ids, positions and the piece each row belongs to. */
    record Rows(int count, CUdeviceptr tokens, CUdeviceptr positions, CUdeviceptr rowPiece) {
    }

    /** rmsnorm_rows: threads per row, each holding up to {@link #NORM_VALUES_PER_THREAD} values of it. */
    static final int NORM_THREADS = 256;
    static final int NORM_VALUES_PER_THREAD = 64;
    /** silu_gate_rows: 256 threads of 4 columns. */
    static final int SILU_COLUMNS_PER_BLOCK = 1024;
    /** qk_rope_kv_write: one head per warp of 4. */
    static final int ROPE_HEADS_PER_BLOCK = 4;

    private final ModelConfig c;
    private final DeviceModel w;
    private final Kernels k;
    private final Gemm gemm;
    private final StepBuffers b;
    private final boolean split;
    private final int hidden, qw, kvw, inter, vocab, heads, kvHeads, headDim;
    private final float eps;

    LayerLoop(ModelConfig c, DeviceModel w, Kernels k, Gemm gemm, StepBuffers b, boolean split) {
        this.c = c;
        this.w = w;
        this.k = k;
        this.gemm = gemm;
        this.b = b;
        this.split = split;
        this.hidden = c.hiddenSize();
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.qw = heads * headDim;
        this.kvw = kvHeads * headDim;
        this.inter = c.intermediateSize();
        this.vocab = c.vocabSize();
        this.eps = (float) c.rmsNormEps();
        if (hidden > NORM_THREADS * NORM_VALUES_PER_THREAD) {
            throw new IllegalArgumentException("the CUDA RMSNorm kernel takes hidden sizes up to "
                    + NORM_THREADS * NORM_VALUES_PER_THREAD + ", not " + hidden);
        }
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Runs every layer for the step's rows: the residual stream ends in {@code b.x}; K/V are appended. */
    void run(Rows rows, StepAttention attention) {
        int n = rows.count();
        int qkvw = qw + 2 * kvw;
        CUdeviceptr lo = split ? b.al : null;
        k.launch("embed_rows", n, 1, 256, 0, new KernelArgs().ptr(rows.tokens()).ptr(w.embedding()).ptr(b.x).i32(hidden));
        for (int l = 0; l < c.numLayers(); l++) {
            DeviceModel.Layer lw = w.layer(l);
            rmsnorm(b.x, null, lw.inputNorm(), n);
            gemm("gemm qkv", b.ah, lo, lw.qkv(), b.qkv, n, qkvw, hidden, false);
            StepAttention.KvTarget t = attention.kvTarget(l);
            k.launch("qk_rope_kv_write", n, ceil(heads + 2 * kvHeads, ROPE_HEADS_PER_BLOCK), 128, 4 * headDim * 4, new KernelArgs().ptr(b.qkv).ptr(rows.positions())
                    .ptr(rows.rowPiece()).ptr(t.seqPageOffsets()).ptr(t.pageTable()).ptr(w.invFreq()).ptr(lw.qNorm())
                    .ptr(lw.kNorm()).f32(eps).i32(heads).i32(kvHeads).i32(headDim).ptr(t.keys()).ptr(t.values()));
            attention.attend(l, b.qkv, qkvw, b.ah, lo);
            gemm("gemm o", b.ah, lo, lw.o(), b.x, n, hidden, qw, true);
            rmsnorm(b.x, null, lw.postNorm(), n);
            gemm("gemm gate_up", b.ah, lo, lw.gateUp(), b.gu, n, 2 * inter, hidden, false);
            k.launch("silu_gate_rows", n, ceil(inter, SILU_COLUMNS_PER_BLOCK), 256, 0, new KernelArgs().ptr(b.gu).i32(inter).ptr(b.ah).ptr(lo));
            gemm("gemm down", b.ah, lo, lw.down(), b.x, n, hidden, inter, true);
        }
    }

    /** Final norm of the residual rows listed at {@code rowIndex} (n of them) and the LM head into {@code b.logits}. */
    void logits(CUdeviceptr rowIndex, int n) {
        rmsnorm(b.x, rowIndex, w.finalNorm(), n);
        gemm("gemm lm_head", b.ah, split ? b.al : null, w.lmHead(), b.logits, n, vocab, hidden, false);
    }

    /** One GEMM, named for launch profiles (through cuBLAS it is not one of our launches). */
    private void gemm(String name, CUdeviceptr a, CUdeviceptr lo, CUdeviceptr weight, CUdeviceptr out, int m, int n, int kk,
                      boolean accumulate) {
        k.beginSpan(name);
        gemm.run(a, lo, weight, out, m, n, kk, accumulate);
        k.endSpan();
    }

    private void rmsnorm(CUdeviceptr in, CUdeviceptr rowIndex, CUdeviceptr weight, int rows) {
        k.launch("rmsnorm_rows", rows, 1, NORM_THREADS, 0, new KernelArgs().ptr(in).ptr(rowIndex).ptr(weight).f32(eps).i32(hidden)
                .ptr(b.ah).ptr(split ? b.al : null));
    }
}
