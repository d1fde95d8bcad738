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
    __shared__ __align__(16) float qs[PPW * ATT_WARPS][D];
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
    // K/V chunks travel as 16-byte vectors, the next chunk's loads in flight while the
    // current one is computed on (registers -> shared memory at the top of each round).
    constexpr int VPR = D / 8;                                   // 16-byte vectors per key row
    constexpr int PER = (CHUNK * VPR + ATT_WARPS * 32 - 1) / (ATT_WARPS * 32);
    uint4 kr[PER], vr[PER];
    auto load_chunk = [&](int kc) {
#pragma unroll
        for (int j = 0; j < PER; j++) {
            int i = threadIdx.x + j * ATT_WARPS * 32;
            int t = i / VPR, v8 = i % VPR;
            int key = kc + t;
            kr[j] = make_uint4(0, 0, 0, 0);
            vr[j] = make_uint4(0, 0, 0, 0);
            if (i < CHUNK * VPR && key < kend) {
                long off = (((long) pt[key >> 4] * kv_heads + g) * 16 + (key & 15)) * D + 8 * v8;
                kr[j] = __ldg(reinterpret_cast<const uint4*>(k_pool + off));
                vr[j] = __ldg(reinterpret_cast<const uint4*>(v_pool + off));
            }
        }
    };
    if (k0 < kend) load_chunk(k0);
    for (int kc = k0; kc < kend; kc += CHUNK) {
        __syncthreads();  // the previous chunk's readers are done
#pragma unroll
        for (int j = 0; j < PER; j++) {
            int i = threadIdx.x + j * ATT_WARPS * 32;
            if (i < CHUNK * VPR) {
                int t = i / VPR, d0 = 8 * (i % VPR);
                const __half2* kh = reinterpret_cast<const __half2*>(&kr[j]);
                const __half2* vh = reinterpret_cast<const __half2*>(&vr[j]);
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    float2 kf = __half22float2(kh[e]);
                    float2 vf = __half22float2(vh[e]);
                    ks[t][d0 + 2 * e] = kf.x;
                    ks[t][d0 + 2 * e + 1] = kf.y;
                    vs[t][d0 + 2 * e] = vf.x;
                    vs[t][d0 + 2 * e + 1] = vf.y;
                }
            }
        }
        __syncthreads();
        if (kc + CHUNK < kend) load_chunk(kc + CHUNK);
        // Scores of every pair of this warp against the chunk (lane = key): each key element
        // read from shared memory once serves all the warp's pairs; q comes 4 elements at a time.
        bool act[PPW];
        bool any = false;
#pragma unroll
        for (int i = 0; i < PPW; i++) {
            act[i] = warp + ATT_WARPS * i < npairs && kc < lim[i];  // warp-uniform
            any |= act[i];
        }
        if (!any) continue;
        float s[PPW];
#pragma unroll
        for (int i = 0; i < PPW; i++) s[i] = 0.f;
#pragma unroll 4
        for (int d = 0; d < D; d += 4) {
            float k0v = ks[lane][d], k1v = ks[lane][d + 1], k2v = ks[lane][d + 2], k3v = ks[lane][d + 3];
#pragma unroll
            for (int i = 0; i < PPW; i++) {
                float4 q4 = *reinterpret_cast<const float4*>(&qs[warp + ATT_WARPS * i][d]);
                s[i] += q4.x * k0v + q4.y * k1v + q4.z * k2v + q4.w * k3v;
            }
        }
#pragma unroll
        for (int i = 0; i < PPW; i++) {
            if (!act[i]) {
                s[i] = 0.f;
                continue;
            }
            float sc = kc + lane < lim[i] ? s[i] : -INFINITY;
            float mx = warp_max(sc);  // finite: key kc is visible
            float mn = fmaxf(m[i], mx);
            float alpha = expf(m[i] - mn);
            float e = expf(sc - mn);
            l[i] = l[i] * alpha + warp_sum(e);
            m[i] = mn;
#pragma unroll
            for (int v = 0; v < NV; v++) o[i][v] *= alpha;
            s[i] = e;
        }
        // o += p . V: each value element read once serves all pairs.
#pragma unroll 4
        for (int j = 0; j < CHUNK; j++) {
            float vv[NV];
#pragma unroll
            for (int v = 0; v < NV; v++) {
                int d = lane + 32 * v;
                vv[v] = d < D ? vs[j][d] : 0.f;
            }
#pragma unroll
            for (int i = 0; i < PPW; i++) {
                float pj = __shfl_sync(0xffffffffu, s[i], j);
#pragma unroll
                for (int v = 0; v < NV; v++) o[i][v] += pj * vv[v];
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
