// Per-row layers of the forward pass: embedding gather, RMSNorm, q/k norm + RoPE + paged KV
// write, SiLU gate. The residual stream x is fp32; what feeds a GEMM is written as bf16 hi
// (and lo in split precision) so the GEMM reads 2-byte operands.
#include "common.cuh"

// x[r, :] = embedding[tokens[r], :]  (bf16 -> fp32). grid: rows, block: 256
KS_EXTERN void embed_rows(const int* __restrict__ tokens, const __nv_bfloat16* __restrict__ emb,
                          float* __restrict__ x, int hidden) {
    int r = blockIdx.x;
    const __nv_bfloat16* src = emb + (long) tokens[r] * hidden;
    float* dst = x + (long) r * hidden;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = __bfloat162float(src[i]);
}

// RMSNorm as Hugging Face computes it in fp32: w * (x * rsqrt(mean(x^2) + eps)); output as the
// next GEMM's bf16 operand. rows: optional gather list (the rows whose logits are wanted).
// A row's values are loaded once, as float4s all in flight together, and kept in registers:
// with a strided loop of dependent loads a row took ~15 us whatever the batch.
// grid: output rows, block: 256; hidden a multiple of 4, at most 16 * 4 * 256
constexpr int NORM_VECS = 16;  // float4s per thread

KS_EXTERN void rmsnorm_rows(const float* __restrict__ x, const int* __restrict__ rows, const float* __restrict__ w,
                            float eps, int hidden, __nv_bfloat16* __restrict__ hi, __nv_bfloat16* __restrict__ lo) {
    __shared__ float scratch[33];
    const int r = blockIdx.x;
    const int src = rows != nullptr ? rows[r] : r;
    const int n4 = hidden / 4;
    if (n4 > NORM_VECS * (int) blockDim.x) __trap();
    const float4* xr = reinterpret_cast<const float4*>(x + (long) src * hidden);
    float4 v[NORM_VECS];
    float ss = 0.f;
#pragma unroll
    for (int j = 0; j < NORM_VECS; j++) {
        const int i = threadIdx.x + j * blockDim.x;
        v[j] = i < n4 ? xr[i] : make_float4(0.f, 0.f, 0.f, 0.f);
        ss += v[j].x * v[j].x + v[j].y * v[j].y + v[j].z * v[j].z + v[j].w * v[j].w;
    }
    ss = block_sum(ss, scratch);
    const float inv = (float) (1.0 / sqrt((double) (ss / hidden + eps)));
#pragma unroll
    for (int j = 0; j < NORM_VECS; j++) {
        const int i = threadIdx.x + j * blockDim.x;
        if (i < n4) {
            const float4 w4 = reinterpret_cast<const float4*>(w)[i];
            const long o = (long) r * hidden + 4 * i;
            store_hi_lo(w4.x * (v[j].x * inv), hi, lo, o);
            store_hi_lo(w4.y * (v[j].y * inv), hi, lo, o + 1);
            store_hi_lo(w4.z * (v[j].z * inv), hi, lo, o + 2);
            store_hi_lo(w4.w * (v[j].w * inv), hi, lo, o + 3);
        }
    }
}

// out = silu(gate) * up from the fused gate|up GEMM output gu[r] = [gate(inter) | up(inter)].
// Blocks across the columns too, so one decode row is spread over the GPU (one block per row
// took ~40 us for a row of the 8B model).
// grid: (rows, ceil(inter / 1024)), block: 256, 4 consecutive columns per thread; inter a multiple of 4
KS_EXTERN void silu_gate_rows(const float* __restrict__ gu, int inter, __nv_bfloat16* __restrict__ hi,
                              __nv_bfloat16* __restrict__ lo) {
    const int r = blockIdx.x;
    const int i = 4 * (blockIdx.y * blockDim.x + threadIdx.x);
    if (i >= inter) return;
    const float* g = gu + (long) r * 2 * inter;
    const float4 a = *reinterpret_cast<const float4*>(g + i);
    const float4 u = *reinterpret_cast<const float4*>(g + inter + i);
    const long o = (long) r * inter + i;
    store_hi_lo(a.x / (1.f + expf(-a.x)) * u.x, hi, lo, o);
    store_hi_lo(a.y / (1.f + expf(-a.y)) * u.y, hi, lo, o + 1);
    store_hi_lo(a.z / (1.f + expf(-a.z)) * u.z, hi, lo, o + 2);
    store_hi_lo(a.w / (1.f + expf(-a.w)) * u.w, hi, lo, o + 3);
}

// For one row of the fused q|k|v GEMM output: optional per-head RMSNorm of q and k (Qwen3),
// RoPE (split-half pairing i <-> i + d/2, inv_freq precomputed on the host) on q and k at the
// row's position, q written back in place (fp32), k and v written as fp16 into the row's
// page of this layer's pools: pool layout [page][kvHead][slot(16)][headDim].
// grid: (rows, ceil((heads + 2 kv_heads) / 4)), block: 128 (4 warps, a head per warp: a row's
// heads side by side, not one after another); dynamic smem: 4 * headDim floats
KS_EXTERN void qk_rope_kv_write(float* __restrict__ qkv, const int* __restrict__ positions,
                                const int* __restrict__ row_seq, const int* __restrict__ seq_pt_off,
                                const int* __restrict__ page_table, const float* __restrict__ inv_freq,
                                const float* __restrict__ q_norm, const float* __restrict__ k_norm, float eps,
                                int heads, int kv_heads, int head_dim,
                                __half* __restrict__ k_pool, __half* __restrict__ v_pool) {
    extern __shared__ float buf[];
    int r = blockIdx.x;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int pos = positions[r];
    int page = page_table[seq_pt_off[row_seq[r]] + (pos >> 4)];
    int slot = pos & 15;
    int qw = heads * head_dim, kvw = kv_heads * head_dim;
    float* row = qkv + (long) r * (qw + 2 * kvw);
    float* v = buf + warp * head_dim;
    int half_d = head_dim / 2;
    const int h = blockIdx.y * 4 + warp;
    if (h >= heads + 2 * kv_heads) return;
    {
        float* src = row + h * head_dim;
        if (h >= heads + kv_heads) {  // a value head: stored as is
            int g = h - heads - kv_heads;
            __half* dst = v_pool + (((long) page * kv_heads + g) * 16 + slot) * head_dim;
            for (int d = lane; d < head_dim; d += 32) dst[d] = __float2half_rn(src[d]);
            return;
        }
        bool is_q = h < heads;
        const float* nw = is_q ? q_norm : k_norm;
        float inv = 1.f;
        if (nw != nullptr) {
            float ss = 0.f;
            for (int d = lane; d < head_dim; d += 32) ss += src[d] * src[d];
            ss = warp_sum(ss);
            inv = (float) (1.0 / sqrt((double) (ss / head_dim + eps)));
        }
        for (int d = lane; d < head_dim; d += 32) v[d] = nw != nullptr ? nw[d] * (src[d] * inv) : src[d];
        __syncwarp();
        for (int i = lane; i < half_d; i += 32) {
            float angle = (float) pos * inv_freq[i];
            float c = cosf(angle), s = sinf(angle);
            float x1 = v[i], x2 = v[i + half_d];
            float y1 = x1 * c - x2 * s;
            float y2 = x2 * c + x1 * s;
            if (is_q) {
                src[i] = y1;
                src[i + half_d] = y2;
            } else {
                int g = h - heads;
                __half* dst = k_pool + (((long) page * kv_heads + g) * 16 + slot) * head_dim;
                dst[i] = __float2half_rn(y1);
                dst[i + half_d] = __float2half_rn(y2);
            }
        }
        __syncwarp();
    }
}
