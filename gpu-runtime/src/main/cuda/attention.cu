// Attention over the paged fp16 KV cache, fp32 arithmetic, causal, GQA.
//
// One launch serves a whole step: prefill tiles and decode splits alike are "work items"
// planned on the host (SplitPlanner): {seq, row0, nrows, pos0, k0, k1, pbase, -}. A block
// takes one item and one KV head; every query head of that KV head's group and every row of
// the item shares each K/V chunk it loads into shared memory (a page load serves the whole
// group). Query row i of an item sits at position pos0 + i and sees keys [k0, min(k1, pos0+i+1)).
// Each item writes partial results (running max m, sum l, unnormalised o) to its partial
// rows; attn_combine merges a row's splits (flash-decoding) and writes the o_proj operand.
#include "common.cuh"

constexpr int ATT_WARPS = 4;
constexpr int CHUNK = 32;  // keys per shared-memory chunk (two pages)

template <int D, int PPW>
__device__ void attn_partial(const float* __restrict__ qkv, int qkv_ld, const int* __restrict__ items,
                             const int* __restrict__ seq_pt_off, const int* __restrict__ page_table,
                             const __half* __restrict__ k_pool, const __half* __restrict__ v_pool, int heads,
                             int kv_heads, float scale, float* __restrict__ part_o, float* __restrict__ part_ml) {
    constexpr int NV = (D + 31) / 32;
    __shared__ float qs[PPW * ATT_WARPS][D];
    __shared__ float ks[CHUNK][D + 1];
    __shared__ float vs[CHUNK][D];
    const int* it = items + blockIdx.x * 8;
    int seq = it[0], row0 = it[1], nrows = it[2], pos0 = it[3], k0 = it[4], k1 = it[5], pbase = it[6];
    int g = blockIdx.y;
    int G = heads / kv_heads;
    int npairs = nrows * G;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int* pt = page_table + seq_pt_off[seq];

    for (int i = threadIdx.x; i < npairs * D; i += blockDim.x) {
        int p = i / D, d = i % D;
        int row = p / G, hq = g * G + p % G;
        qs[p][d] = qkv[(long) (row0 + row) * qkv_ld + hq * D + d] * scale;
    }
    float o[PPW][NV], m[PPW], l[PPW];
    int lim[PPW];
#pragma unroll
    for (int i = 0; i < PPW; i++) {
        m[i] = -INFINITY;
        l[i] = 0.f;
        int p = warp + ATT_WARPS * i;
        lim[i] = p < npairs ? min(k1, pos0 + p / G + 1) : 0;
#pragma unroll
        for (int v = 0; v < NV; v++) o[i][v] = 0.f;
    }
    int kend = min(k1, pos0 + nrows);
    for (int kc = k0; kc < kend; kc += CHUNK) {
        __syncthreads();
        for (int i = threadIdx.x; i < CHUNK * (D / 2); i += blockDim.x) {
            int t = i / (D / 2), d2 = i % (D / 2);
            int key = kc + t;
            float2 kf = make_float2(0.f, 0.f), vf = make_float2(0.f, 0.f);
            if (key < kend) {
                long off = (((long) pt[key >> 4] * kv_heads + g) * 16 + (key & 15)) * D + 2 * d2;
                kf = __half22float2(*reinterpret_cast<const __half2*>(k_pool + off));
                vf = __half22float2(*reinterpret_cast<const __half2*>(v_pool + off));
            }
            ks[t][2 * d2] = kf.x;
            ks[t][2 * d2 + 1] = kf.y;
            vs[t][2 * d2] = vf.x;
            vs[t][2 * d2 + 1] = vf.y;
        }
        __syncthreads();
#pragma unroll
        for (int i = 0; i < PPW; i++) {
            int p = warp + ATT_WARPS * i;
            if (p >= npairs || kc >= lim[i]) continue;  // warp-uniform
            float s = 0.f;
#pragma unroll 16
            for (int d = 0; d < D; d++) s += qs[p][d] * ks[lane][d];
            if (kc + lane >= lim[i]) s = -INFINITY;
            float mx = warp_max(s);  // finite: key kc is visible
            float mn = fmaxf(m[i], mx);
            float alpha = expf(m[i] - mn);
            float e = expf(s - mn);
            l[i] = l[i] * alpha + warp_sum(e);
            m[i] = mn;
#pragma unroll
            for (int v = 0; v < NV; v++) o[i][v] *= alpha;
#pragma unroll 8
            for (int j = 0; j < CHUNK; j++) {
                float pj = __shfl_sync(0xffffffffu, e, j);
#pragma unroll
                for (int v = 0; v < NV; v++) {
                    int d = lane + 32 * v;
                    if (d < D) o[i][v] += pj * vs[j][d];
                }
            }
        }
    }
#pragma unroll
    for (int i = 0; i < PPW; i++) {
        int p = warp + ATT_WARPS * i;
        if (p >= npairs) continue;
        int row = p / G, hq = g * G + p % G;
        long pr = (long) (pbase + row) * heads + hq;
#pragma unroll
        for (int v = 0; v < NV; v++) {
            int d = lane + 32 * v;
            if (d < D) part_o[pr * D + d] = o[i][v];
        }
        if (lane == 0) {
            part_ml[2 * pr] = m[i];
            part_ml[2 * pr + 1] = l[i];
        }
    }
}

#define ATT_ENTRY(D, PPW)                                                                                       \
    KS_EXTERN void __launch_bounds__(128) attn_partial_d##D##_p##PPW(const float* qkv, int qkv_ld,               \
            const int* items, const int* seq_pt_off, const int* page_table, const __half* k_pool,               \
            const __half* v_pool, int heads, int kv_heads, float scale, float* part_o, float* part_ml) {        \
        attn_partial<D, PPW>(qkv, qkv_ld, items, seq_pt_off, page_table, k_pool, v_pool, heads, kv_heads, scale, \
                             part_o, part_ml);                                                                  \
    }
ATT_ENTRY(32, 1)
ATT_ENTRY(32, 8)
ATT_ENTRY(64, 1)
ATT_ENTRY(64, 8)
ATT_ENTRY(128, 1)
ATT_ENTRY(128, 6)

// Merges each query row's partials [pfirst, pfirst + nsplit) per head and writes the o_proj
// operand (bf16 hi/lo) [rows][heads * D]. grid: rows, block: 128
KS_EXTERN void attn_combine(const float* __restrict__ part_o, const float* __restrict__ part_ml,
                            const int* __restrict__ pfirst, const int* __restrict__ nsplit, int heads, int head_dim,
                            __nv_bfloat16* __restrict__ hi, __nv_bfloat16* __restrict__ lo) {
    int r = blockIdx.x;
    int p0 = pfirst[r], ns = nsplit[r];
    int qw = heads * head_dim;
    for (int i = threadIdx.x; i < qw; i += blockDim.x) {
        int h = i / head_dim, d = i % head_dim;
        float mx = -INFINITY;
        for (int s = 0; s < ns; s++) mx = fmaxf(mx, part_ml[2 * ((long) (p0 + s) * heads + h)]);
        float L = 0.f, acc = 0.f;
        for (int s = 0; s < ns; s++) {
            long pr = (long) (p0 + s) * heads + h;
            float m = part_ml[2 * pr];
            if (m == -INFINITY) continue;  // a split that saw no key
            float f = expf(m - mx);
            L += part_ml[2 * pr + 1] * f;
            acc += part_o[pr * head_dim + d] * f;
        }
        store_hi_lo(acc / L, hi, lo, (long) r * qw + i);
    }
}
