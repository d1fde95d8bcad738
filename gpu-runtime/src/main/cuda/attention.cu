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
ATT_ENTRY(32, 8)
ATT_ENTRY(64, 8)
ATT_ENTRY(128, 6)

// ---------------------------------------------------------------------------------------------
// Decode attention (every item one query row: a step of new tokens only). The kernel above
// stages 32 keys per block through shared memory between two barriers and converts them to
// fp32 there, so a block has one chunk in flight and reads the pages at a third of the copy
// bandwidth. Here every warp walks its own chunks of the item's keys with no block barrier:
//  - lane = key for the scores: a lane reads its key's whole row (D / 8 16-byte loads, all
//    issued before any use) and dots it with every query head of the group, q broadcast from
//    shared memory, so no cross-lane reduction per key;
//  - lane = channels for the values: each of the chunk's 32 value rows is one coalesced warp
//    load (also issued up front, beside the keys), p broadcast from shared memory;
//  - the chunk's max is the only per-chunk shuffle reduction (the sums are lane-private
//    until the end);
//  - the warps' (m, l, o) are merged in shared memory at the end, so the item writes one
//    partial row per head exactly like attn_partial and attn_combine finishes it.
// fp32 arithmetic throughout, like attn_partial. grid: (items, kv heads), block: 128.
constexpr int DEC_WARPS = 4;

template <int D, int G>
__device__ void attn_decode(const float* __restrict__ qkv, int qkv_ld, const int* __restrict__ items,
                            const int* __restrict__ seq_pt_off, const int* __restrict__ page_table,
                            const __half* __restrict__ k_pool, const __half* __restrict__ v_pool, int heads,
                            int kv_heads, float scale, float* __restrict__ part_o, float* __restrict__ part_ml) {
    constexpr int VPR = D / 8;          // 16-byte vectors per key row
    constexpr int CPL = D / 32;         // value channels per lane
    constexpr int PG = (G + 3) / 4 * 4; // p row stride: float4 reads
    __shared__ __align__(16) float qs[G][D];
    __shared__ __align__(16) float ps[DEC_WARPS][32][PG];
    __shared__ __align__(16) float os[DEC_WARPS][G][D];
    __shared__ float ms[DEC_WARPS][G], ls[DEC_WARPS][G];
    const int* it = items + blockIdx.x * 8;
    const int row0 = it[1], pos0 = it[3], k0 = it[4], k1 = it[5], pbase = it[6];
    const int g = blockIdx.y;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int* pt = page_table + seq_pt_off[it[0]];
    for (int i = threadIdx.x; i < G * D; i += blockDim.x) {
        qs[i / D][i % D] = qkv[(long) row0 * qkv_ld + (g * G + i / D) * D + i % D] * scale;
    }
    __syncthreads();
    const int kend = min(k1, pos0 + 1);
    float m[G], l[G], o[G][CPL];
#pragma unroll
    for (int h = 0; h < G; h++) {
        m[h] = -INFINITY;
        l[h] = 0.f;
#pragma unroll
        for (int c = 0; c < CPL; c++) o[h][c] = 0.f;
    }
    for (int kc = k0 + 32 * warp; kc < kend; kc += 32 * DEC_WARPS) {
        // kc is a multiple of 32 (items start on page pairs), so the chunk is pages kc/16, kc/16 + 1
        const int nkeys = min(32, kend - kc);
        const long pageA = ((long) pt[kc >> 4] * kv_heads + g) * 16 * D;
        const long pageB = nkeys > 16 ? ((long) pt[(kc >> 4) + 1] * kv_heads + g) * 16 * D : pageA;
        const bool valid = lane < nkeys;
        uint4 kr[VPR];
        if (valid) {
            const uint4* src = reinterpret_cast<const uint4*>(k_pool + (lane < 16 ? pageA : pageB) + (lane & 15) * D);
#pragma unroll
            for (int j = 0; j < VPR; j++) kr[j] = __ldg(src + j);
        } else {
#pragma unroll
            for (int j = 0; j < VPR; j++) kr[j] = make_uint4(0, 0, 0, 0);
        }
        // value rows of the chunk: the lane's CPL channels of each (fp16 bits: CPL / 2 words, or one half)
        uint32_t vr[32][(CPL + 1) / 2];
        const __half* vA = v_pool + pageA + CPL * lane;
        const __half* vB = v_pool + pageB + CPL * lane;
#pragma unroll
        for (int t = 0; t < 32; t++) {
            const __half* row = (t < 16 ? vA : vB) + (t & 15) * D;
            if (t < nkeys) {
                if constexpr (CPL == 4) {
                    const uint2 w = __ldg(reinterpret_cast<const uint2*>(row));
                    vr[t][0] = w.x;
                    vr[t][1] = w.y;
                } else if constexpr (CPL == 2) {
                    vr[t][0] = __ldg(reinterpret_cast<const unsigned int*>(row));
                } else {
                    vr[t][0] = __ldg(reinterpret_cast<const unsigned short*>(row));
                }
            } else {
#pragma unroll
                for (int w = 0; w < (CPL + 1) / 2; w++) vr[t][w] = 0u;
            }
        }
        float s[G];
#pragma unroll
        for (int h = 0; h < G; h++) s[h] = 0.f;
#pragma unroll
        for (int j = 0; j < VPR; j++) {
            const __half2* kh = reinterpret_cast<const __half2*>(&kr[j]);
            float kf[8];
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const float2 f = __half22float2(kh[e]);
                kf[2 * e] = f.x;
                kf[2 * e + 1] = f.y;
            }
#pragma unroll
            for (int h = 0; h < G; h++) {
                const float4 qa = *reinterpret_cast<const float4*>(&qs[h][8 * j]);
                const float4 qb = *reinterpret_cast<const float4*>(&qs[h][8 * j + 4]);
                s[h] += qa.x * kf[0] + qa.y * kf[1] + qa.z * kf[2] + qa.w * kf[3] + qb.x * kf[4] + qb.y * kf[5]
                        + qb.z * kf[6] + qb.w * kf[7];
            }
        }
#pragma unroll
        for (int h = 0; h < G; h++) {
            const float sc = valid ? s[h] : -INFINITY;
            const float mn = fmaxf(m[h], warp_max(sc));  // finite: key kc is visible
            const float alpha = expf(m[h] - mn);
            const float p = valid ? expf(sc - mn) : 0.f;
            l[h] = l[h] * alpha + p;
            m[h] = mn;
#pragma unroll
            for (int c = 0; c < CPL; c++) o[h][c] *= alpha;
            ps[warp][lane][h] = p;
        }
        __syncwarp();
#pragma unroll
        for (int t = 0; t < 32; t++) {
            float vf[CPL];
            if constexpr (CPL == 1) {
                vf[0] = __half2float(__ushort_as_half((unsigned short) vr[t][0]));
            } else {
#pragma unroll
                for (int w = 0; w < CPL / 2; w++) {
                    const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&vr[t][w]));
                    vf[2 * w] = f.x;
                    vf[2 * w + 1] = f.y;
                }
            }
            float pv[PG];
#pragma unroll
            for (int h4 = 0; h4 < PG; h4 += 4) {
                const float4 p4 = *reinterpret_cast<const float4*>(&ps[warp][t][h4]);
                pv[h4] = p4.x;
                pv[h4 + 1] = p4.y;
                pv[h4 + 2] = p4.z;
                pv[h4 + 3] = p4.w;
            }
#pragma unroll
            for (int h = 0; h < G; h++)
#pragma unroll
                for (int c = 0; c < CPL; c++) o[h][c] = __fmaf_rn(pv[h], vf[c], o[h][c]);
        }
        __syncwarp();  // ps is rewritten by the next chunk
    }
    // merge the warps: each writes its (m, l, o), then the block combines them per head
#pragma unroll
    for (int h = 0; h < G; h++) {
        const float lw = warp_sum(l[h]);
        if (lane == 0) {
            ms[warp][h] = m[h];
            ls[warp][h] = lw;
        }
#pragma unroll
        for (int c = 0; c < CPL; c++) os[warp][h][CPL * lane + c] = o[h][c];
    }
    __syncthreads();
    for (int i = threadIdx.x; i < G * D; i += blockDim.x) {
        const int h = i / D, d = i % D;
        float mx = -INFINITY;
#pragma unroll
        for (int w = 0; w < DEC_WARPS; w++) mx = fmaxf(mx, ms[w][h]);
        float acc = 0.f, lsum = 0.f;
#pragma unroll
        for (int w = 0; w < DEC_WARPS; w++) {
            const float f = ms[w][h] == -INFINITY ? 0.f : expf(ms[w][h] - mx);  // a warp that saw no key weighs nothing
            acc += f * os[w][h][d];
            lsum += f * ls[w][h];
        }
        const long pr = (long) pbase * heads + g * G + h;
        part_o[pr * D + d] = acc;
        if (d == 0) {
            part_ml[2 * pr] = mx;
            part_ml[2 * pr + 1] = lsum;
        }
    }
}

#define DEC_ENTRY(D, G)                                                                                          \
    KS_EXTERN void __launch_bounds__(128, 3) attn_decode_d##D##_g##G(const float* qkv, int qkv_ld, const int* items, \
            const int* seq_pt_off, const int* page_table, const __half* k_pool, const __half* v_pool, int heads,  \
            int kv_heads, float scale, float* part_o, float* part_ml) {                                           \
        attn_decode<D, G>(qkv, qkv_ld, items, seq_pt_off, page_table, k_pool, v_pool, heads, kv_heads, scale,     \
                          part_o, part_ml);                                                                      \
    }
#define DEC_ENTRIES(D) DEC_ENTRY(D, 1) DEC_ENTRY(D, 2) DEC_ENTRY(D, 3) DEC_ENTRY(D, 4) DEC_ENTRY(D, 6) DEC_ENTRY(D, 8)
DEC_ENTRIES(32)
DEC_ENTRIES(64)
DEC_ENTRIES(128)

// Merges each query row's partials [pfirst, pfirst + nsplit) for one head and writes the
// o_proj operand (bf16 hi/lo) [rows][heads * D]. The split weights exp(m_s - max) are found once
// per block, then each thread sums its own element d over the splits (coalesced reads).
// grid: (rows, heads), block: head_dim (32, 64 or 128)
constexpr int MAX_COMBINE_SPLITS = 512;

KS_EXTERN void attn_combine(const float* __restrict__ part_o, const float* __restrict__ part_ml,
                            const int* __restrict__ pfirst, const int* __restrict__ nsplit, int heads, int head_dim,
                            __nv_bfloat16* __restrict__ hi, __nv_bfloat16* __restrict__ lo) {
    __shared__ float f[MAX_COMBINE_SPLITS];
    __shared__ float scratch[33];
    int r = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
    int p0 = pfirst[r], ns = nsplit[r];
    if (ns == 1) {  // a prompt row: its one partial, normalised (the same bits as the weighted sum below)
        if (d < head_dim) {
            long pr = (long) p0 * heads + h;
            store_hi_lo(part_o[pr * head_dim + d] / part_ml[2 * pr + 1], hi, lo, (long) r * heads * head_dim + (long) h * head_dim + d);
        }
        return;
    }
    float mx = -INFINITY;
    for (int s = threadIdx.x; s < ns; s += blockDim.x) mx = fmaxf(mx, part_ml[2 * ((long) (p0 + s) * heads + h)]);
    mx = block_max(mx, scratch);
    float lsum = 0.f;
    for (int s = threadIdx.x; s < ns; s += blockDim.x) {
        long pr = (long) (p0 + s) * heads + h;
        float m = part_ml[2 * pr];
        float w = m == -INFINITY ? 0.f : expf(m - mx);  // a split that saw no key weighs nothing
        f[s] = w;
        lsum += w * part_ml[2 * pr + 1];
    }
    float L = block_sum(lsum, scratch);  // its barriers also publish f
    __syncthreads();
    if (d < head_dim) {
        float acc = 0.f;
        for (int s = 0; s < ns; s++) acc += f[s] * part_o[((long) (p0 + s) * heads + h) * head_dim + d];
        store_hi_lo(acc / L, hi, lo, (long) r * heads * head_dim + (long) h * head_dim + d);
    }
}

// ---------------------------------------------------------------------------------------------
// Prefill on the tensor cores (bf16 precision mode): FlashAttention-2 style. A block takes one
// work item (up to 64 query rows) and one query head; each of its 4 warps owns 16 rows. Per
// chunk of 64 keys: S = Q K^T and O += P V with mma.sync m16n8k16 (fp16 operands, fp32
// accumulate), online softmax on the accumulators (a row's values live in one quad of lanes).
// K and V chunks come through a two-stage cp.async ring in shared memory, so the next chunk is
// in flight while this one goes through the tensor cores; V stays key-major there and
// ldmatrix.trans turns it into P V's B fragments. Scores are in log2 units (Q carries
// log2(e)), converted back for the partials. Blocks run the heaviest items first (causal: the
// last rows see the most keys), every head of an item side by side, so the grid ends evenly.
// Q is rounded to fp16 (K and V already are), P to fp16; the split-precision mode keeps the
// fp32 kernel above. Writes the same partials as attn_partial, so attn_combine finishes it.
// grid: (items, heads), block: 128, dynamic shared memory tc_shared_bytes(D)
// (PagedAttention.tensorCoreSharedBytes).
constexpr int TC_CHUNK = 64;
constexpr int TC_THREADS = 128;

template <int D>
struct TcShape {
    static constexpr int KS = D + 32;  // K row stride (halves): 16 words mod 32, conflict-free fragment reads
    static constexpr int VS = D + 8;   // V row stride (halves): ldmatrix's 8 rows fall in distinct banks
    static constexpr int STAGE = TC_CHUNK * (KS + VS);  // halves
};

__device__ __forceinline__ void mma_f16(float* c, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0,
                                        uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// Four transposed 8x8 fp16 matrices; lane l gives the address of row l % 8 of matrix l / 8.
__device__ __forceinline__ void ldmatrix_x4_trans(const __half* row, uint32_t& r0, uint32_t& r1, uint32_t& r2,
                                                  uint32_t& r3) {
    unsigned s = (unsigned) __cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(s));
}

__device__ __forceinline__ uint32_t pack_half2(float a, float b) {
    __half2 h = __floats2half2_rn(a, b);
    return *reinterpret_cast<uint32_t*>(&h);
}

// Starts the copies of keys kc .. kc + TC_CHUNK - 1 (zeros past kend) into one stage.
template <int D>
__device__ __forceinline__ void tc_load_chunk(__half* stage, int kc, int kend, const int* pt, int kv_heads, int g,
                                              const __half* __restrict__ k_pool, const __half* __restrict__ v_pool) {
    using S = TcShape<D>;
    constexpr int VPR = D / 8;                                 // 16-byte vectors per row
    constexpr int LOADS = TC_CHUNK * VPR / TC_THREADS;         // per thread, of K and of V each
    __half* ks = stage;
    __half* vs = stage + TC_CHUNK * S::KS;
#pragma unroll
    for (int j = 0; j < LOADS; j++) {
        const int i = threadIdx.x + TC_THREADS * j;
        const int t = i / VPR, d = 8 * (i % VPR);
        const int key = kc + t;
        const bool ok = key < kend;
        const long row = ok ? ((long) pt[key >> 4] * kv_heads + g) * 16 + (key & 15) : 0;
        cp_async16_or_zero(&ks[t * S::KS + d], k_pool + row * D + d, ok);
        cp_async16_or_zero(&vs[t * S::VS + d], v_pool + row * D + d, ok);
    }
}

template <int D>
__device__ __forceinline__ int tc_shared_bytes() {
    return 2 * TcShape<D>::STAGE * (int) sizeof(__half);
}

template <int D>
__device__ void attn_prefill_tc(const float* __restrict__ qkv, int qkv_ld, const int* __restrict__ items,
                                const int* __restrict__ seq_pt_off, const int* __restrict__ page_table,
                                const __half* __restrict__ k_pool, const __half* __restrict__ v_pool, int heads,
                                int kv_heads, float scale, float* __restrict__ part_o, float* __restrict__ part_ml,
                                __half* smem) {
    using S = TcShape<D>;
    constexpr int NC = D / 32;  // 32-wide d chunks of QK
    constexpr int NO = D / 8;   // n-tiles of O
    constexpr float LOG2E = 1.4426950408889634f, LN2 = 0.6931471805599453f;
    // heaviest item first, all heads of one item next to each other
    const int lin = blockIdx.x + gridDim.x * blockIdx.y;
    const int h = lin % heads;
    const int* it = items + (gridDim.x - 1 - lin / heads) * 8;
    int seq = it[0], row0 = it[1], nrows = it[2], pos0 = it[3], k0 = it[4], k1 = it[5], pbase = it[6];
    int g = h / (heads / kv_heads);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int gq = lane >> 2, q = lane & 3;
    const int* pt = page_table + seq_pt_off[seq];

    int kend = min(k1, pos0 + nrows);
    if (k0 < kend) tc_load_chunk<D>(smem, k0, kend, pt, kv_heads, g, k_pool, v_pool);
    cp_async_commit();

    // Q fragments (rows gq and gq+8 of this warp's 16), fp16, permuted k as in gemm.cu.
    const float qscale = scale * LOG2E;
    int rA = warp * 16 + gq, rB = rA + 8;
    uint4 qa[NC], qb[NC];
#pragma unroll
    for (int c = 0; c < NC; c++) {
        const float* pa = qkv + (long) (row0 + min(rA, nrows - 1)) * qkv_ld + h * D + c * 32 + q * 8;
        const float* pb = qkv + (long) (row0 + min(rB, nrows - 1)) * qkv_ld + h * D + c * 32 + q * 8;
        float4 a0 = *reinterpret_cast<const float4*>(pa), a1 = *reinterpret_cast<const float4*>(pa + 4);
        float4 b0 = *reinterpret_cast<const float4*>(pb), b1 = *reinterpret_cast<const float4*>(pb + 4);
        qa[c] = make_uint4(pack_half2(a0.x * qscale, a0.y * qscale), pack_half2(a0.z * qscale, a0.w * qscale),
                           pack_half2(a1.x * qscale, a1.y * qscale), pack_half2(a1.z * qscale, a1.w * qscale));
        qb[c] = make_uint4(pack_half2(b0.x * qscale, b0.y * qscale), pack_half2(b0.z * qscale, b0.w * qscale),
                           pack_half2(b1.x * qscale, b1.y * qscale), pack_half2(b1.z * qscale, b1.w * qscale));
    }
    int limA = min(k1, pos0 + rA + 1), limB = min(k1, pos0 + rB + 1);
    float mA = -INFINITY, mB = -INFINITY, lA = 0.f, lB = 0.f;
    float o[NO][4];
#pragma unroll
    for (int n = 0; n < NO; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[n][e] = 0.f;

    int warpEnd = min(kend, pos0 + min(warp * 16 + 16, nrows));  // keys this warp's rows can see
    // ldmatrix rows of this lane: key (lane & 15) of a 16-key step, d offset 8 * (lane >> 4)
    const int vrow = lane & 15, vcol = 8 * (lane >> 4);
    for (int kc = k0, it2 = 0; kc < kend; kc += TC_CHUNK, it2++) {
        __half* cur = smem + (it2 & 1) * S::STAGE;
        if (kc + TC_CHUNK < kend) {
            tc_load_chunk<D>(smem + ((it2 + 1) & 1) * S::STAGE, kc + TC_CHUNK, kend, pt, kv_heads, g, k_pool, v_pool);
        }
        cp_async_commit();
        cp_async_wait<1>();  // this chunk's group landed (the next one may still be in flight)
        __syncthreads();
        if (kc < warpEnd) {  // some row of this warp sees this chunk (warp-uniform)
            const __half* ks = cur;
            const __half* vs = cur + TC_CHUNK * S::KS;
            float s[TC_CHUNK / 8][4];
#pragma unroll
            for (int j = 0; j < TC_CHUNK / 8; j++) {
#pragma unroll
                for (int e = 0; e < 4; e++) s[j][e] = 0.f;
#pragma unroll
                for (int c = 0; c < NC; c++) {
                    uint4 kb = *reinterpret_cast<const uint4*>(&ks[(8 * j + gq) * S::KS + c * 32 + q * 8]);
                    mma_f16(s[j], qa[c].x, qb[c].x, qa[c].y, qb[c].y, kb.x, kb.y);
                    mma_f16(s[j], qa[c].z, qb[c].z, qa[c].w, qb[c].w, kb.z, kb.w);
                }
            }
            float cmA = -INFINITY, cmB = -INFINITY;
            if (kc + TC_CHUNK > pos0 + warp * 16 || kc + TC_CHUNK > k1) {  // the chunk reaches past a row's last key
#pragma unroll
                for (int j = 0; j < TC_CHUNK / 8; j++) {
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        int key = kc + 8 * j + 2 * q + (e & 1);
                        bool ok = key < (e < 2 ? limA : limB);
                        s[j][e] = ok ? s[j][e] : -INFINITY;
                    }
                }
            }
#pragma unroll
            for (int j = 0; j < TC_CHUNK / 8; j++) {
                cmA = fmaxf(cmA, fmaxf(s[j][0], s[j][1]));
                cmB = fmaxf(cmB, fmaxf(s[j][2], s[j][3]));
            }
            cmA = fmaxf(cmA, __shfl_xor_sync(0xffffffffu, cmA, 1));
            cmA = fmaxf(cmA, __shfl_xor_sync(0xffffffffu, cmA, 2));
            cmB = fmaxf(cmB, __shfl_xor_sync(0xffffffffu, cmB, 1));
            cmB = fmaxf(cmB, __shfl_xor_sync(0xffffffffu, cmB, 2));
            float nA = fmaxf(mA, cmA), nB = fmaxf(mB, cmB);
            // a row that has seen no key yet keeps m = -inf: its p are 0 and nothing is rescaled
            float alA = nA == -INFINITY ? 1.f : exp2f(mA - nA), alB = nB == -INFINITY ? 1.f : exp2f(mB - nB);
            const float subA = nA == -INFINITY ? 0.f : nA, subB = nB == -INFINITY ? 0.f : nB;
            float sumA = 0.f, sumB = 0.f;
#pragma unroll
            for (int j = 0; j < TC_CHUNK / 8; j++) {
                s[j][0] = exp2f(s[j][0] - subA);
                s[j][1] = exp2f(s[j][1] - subA);
                s[j][2] = exp2f(s[j][2] - subB);
                s[j][3] = exp2f(s[j][3] - subB);
                sumA += s[j][0] + s[j][1];
                sumB += s[j][2] + s[j][3];
            }
            lA = lA * alA + sumA;  // this lane's share; the quad is summed at the end
            lB = lB * alB + sumB;
            mA = nA;
            mB = nB;
#pragma unroll
            for (int n = 0; n < NO; n++) {
                o[n][0] *= alA;
                o[n][1] *= alA;
                o[n][2] *= alB;
                o[n][3] *= alB;
            }
#pragma unroll
            for (int t = 0; t < TC_CHUNK / 16; t++) {
                uint32_t a0 = pack_half2(s[2 * t][0], s[2 * t][1]);
                uint32_t a1 = pack_half2(s[2 * t][2], s[2 * t][3]);
                uint32_t a2 = pack_half2(s[2 * t + 1][0], s[2 * t + 1][1]);
                uint32_t a3 = pack_half2(s[2 * t + 1][2], s[2 * t + 1][3]);
                const __half* vt = vs + (16 * t + vrow) * S::VS + vcol;
#pragma unroll
                for (int n = 0; n < NO; n += 2) {
                    // matrices: keys 16t..+7 / 16t+8..+15 of d tile n, then of d tile n + 1
                    uint32_t b0, b1, c0, c1;
                    ldmatrix_x4_trans(vt + 8 * n, b0, b1, c0, c1);
                    mma_f16(o[n], a0, a1, a2, a3, b0, b1);
                    mma_f16(o[n + 1], a0, a1, a2, a3, c0, c1);
                }
            }
        }
        __syncthreads();  // every warp is done with this stage before the next chunk's copies refill it
    }
    lA += __shfl_xor_sync(0xffffffffu, lA, 1);
    lA += __shfl_xor_sync(0xffffffffu, lA, 2);
    lB += __shfl_xor_sync(0xffffffffu, lB, 1);
    lB += __shfl_xor_sync(0xffffffffu, lB, 2);
#pragma unroll
    for (int half = 0; half < 2; half++) {
        int r = half == 0 ? rA : rB;
        if (r >= nrows) continue;
        long pr = (long) (pbase + r) * heads + h;
#pragma unroll
        for (int n = 0; n < NO; n++) {
            float2 v = make_float2(o[n][2 * half], o[n][2 * half + 1]);
            *reinterpret_cast<float2*>(&part_o[pr * D + 8 * n + 2 * q]) = v;
        }
        if (q == 0) {
            const float m2 = half == 0 ? mA : mB;
            part_ml[2 * pr] = m2 == -INFINITY ? m2 : m2 * LN2;  // natural-log units, like every partial
            part_ml[2 * pr + 1] = half == 0 ? lA : lB;
        }
    }
}

#define TC_ENTRY(D)                                                                                              \
    KS_EXTERN void __launch_bounds__(128, 2) attn_prefill_tc_d##D(const float* qkv, int qkv_ld, const int* items,   \
            const int* seq_pt_off, const int* page_table, const __half* k_pool, const __half* v_pool, int heads, \
            int kv_heads, float scale, float* part_o, float* part_ml) {                                          \
        extern __shared__ __align__(16) __half tc_smem[];                                                        \
        uint32_t have;                                                                                           \
        asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(have));                                                    \
        if (have < (uint32_t) tc_shared_bytes<D>()) __trap();                                                    \
        attn_prefill_tc<D>(qkv, qkv_ld, items, seq_pt_off, page_table, k_pool, v_pool, heads, kv_heads, scale,   \
                           part_o, part_ml, tc_smem);                                                            \
    }
TC_ENTRY(32)
TC_ENTRY(64)
TC_ENTRY(128)

// ---------------------------------------------------------------------------------------------
// Decode attention on the tensor cores (bf16 precision mode). The CUDA-core decode kernel above
// is bound by its L1: a lane = key load touches 32 cache lines per instruction, and every key
// element meets q through a broadcast shared-memory load. Here each warp still walks its own
// 32-key chunks with no block barrier, but:
//  - a chunk's K and V rows come by coalesced 16-byte cp.async into the warp's own stages (two
//    rows of 256 bytes per warp instruction at head_dim 128);
//  - S = Q K^T on mma.m16n8k16 with the group's query heads as the A rows (q in registers,
//    fp16, rows past the group zero) and K's B fragments by ldmatrix;
//  - O^T = V^T P^T with V's A fragments by ldmatrix.trans and P straight from S's accumulators
//    as the B operand (heads are the 8 columns), so O takes 8 accumulator registers per 16
//    channels and nothing goes through shared memory between the two products;
//  - the next chunk's keys are copied while this chunk's softmax and P V run, its values while
//    the next scores are computed.
// Q and P are rounded to fp16 as in the tensor-core prefill (K and V already are); scores in log2
// units. The warps' (m, l, o) merge in shared memory at the end, like attn_decode.
// grid: (items, kv heads), block: 128, dynamic shared memory dec_tc_shared_bytes(D)
// (PagedAttention.decodeTensorCoreSharedBytes).
template <int D>
struct DecTcShape {
    static constexpr int RS = D + 8;          // row stride (halves): ldmatrix's 8 rows in distinct banks
    static constexpr int STAGE = 32 * RS;     // halves: one 32-key chunk of K, or of V
    static constexpr int WARP = 2 * STAGE;    // halves per warp: its K stage and its V stage
};

template <int D>
__device__ __forceinline__ int dec_tc_shared_bytes() {
    return DEC_WARPS * DecTcShape<D>::WARP * (int) sizeof(__half) + 2 * DEC_WARPS * 8 * (int) sizeof(float);
}

// Starts the copies of one 32-key chunk's rows (pages kc/16 and kc/16 + 1; zeros past kend) from pool.
template <int D>
__device__ __forceinline__ void dec_tc_load(__half* stage, const __half* __restrict__ pool, int kc, int kend,
                                            const int* pt, int kv_heads, int g, int lane) {
    constexpr int VPR = D / 8;  // 16-byte vectors per row
#pragma unroll
    for (int j = 0; j < 32 * VPR / 32; j++) {
        const int i = lane + 32 * j;
        const int t = i / VPR, d = 8 * (i % VPR);
        const int key = kc + t;
        const bool ok = key < kend;
        const long row = ok ? ((long) pt[key >> 4] * kv_heads + g) * 16 + (key & 15) : 0;
        cp_async16_or_zero(&stage[t * DecTcShape<D>::RS + d], pool + row * D + d, ok);
    }
}

// Four 8x8 fp16 matrices; lane l gives the address of row l % 8 of matrix l / 8.
__device__ __forceinline__ void ldmatrix_x4(const __half* row, uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3) {
    unsigned s = (unsigned) __cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(s));
}

template <int D, int G>
__device__ void attn_decode_tc(const float* __restrict__ qkv, int qkv_ld, const int* __restrict__ items,
                               const int* __restrict__ seq_pt_off, const int* __restrict__ page_table,
                               const __half* __restrict__ k_pool, const __half* __restrict__ v_pool, int heads,
                               int kv_heads, float scale, float* __restrict__ part_o, float* __restrict__ part_ml,
                               __half* smem) {
    static_assert(G <= 8, "the group's heads are the 8 columns of P V");
    using S = DecTcShape<D>;
    constexpr int KS = D / 16;  // k-steps of Q K^T
    constexpr int MT = D / 16;  // m-tiles of O^T
    constexpr float LOG2E = 1.4426950408889634f, LN2 = 0.6931471805599453f;
    const int* it = items + blockIdx.x * 8;
    const int row0 = it[1], pos0 = it[3], k0 = it[4], k1 = it[5], pbase = it[6];
    const int g = blockIdx.y;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gq = lane >> 2, q = lane & 3;
    const int* pt = page_table + seq_pt_off[it[0]];
    __half* ks = smem + warp * S::WARP;
    __half* vs = ks + S::STAGE;
    const int kend = min(k1, pos0 + 1);
    const int kfirst = k0 + 32 * warp;
    if (kfirst < kend) {
        dec_tc_load<D>(ks, k_pool, kfirst, kend, pt, kv_heads, g, lane);
        cp_async_commit();
        dec_tc_load<D>(vs, v_pool, kfirst, kend, pt, kv_heads, g, lane);
        cp_async_commit();
    }
    // A fragments of Q: row gq = query head gq of the group (zero past it), natural k order
    uint32_t qa[KS][2];
    {
        const float qscale = scale * LOG2E;
        const float* qrow = qkv + (long) row0 * qkv_ld + (g * G + min(gq, G - 1)) * D;
#pragma unroll
        for (int s = 0; s < KS; s++) {
            const float2 lo = *reinterpret_cast<const float2*>(qrow + 16 * s + 2 * q);
            const float2 hi = *reinterpret_cast<const float2*>(qrow + 16 * s + 8 + 2 * q);
            qa[s][0] = gq < G ? pack_half2(lo.x * qscale, lo.y * qscale) : 0u;
            qa[s][1] = gq < G ? pack_half2(hi.x * qscale, hi.y * qscale) : 0u;
        }
    }
    float m = -INFINITY, l = 0.f;  // of head gq (uniform over the quad), l this lane's share
    float o[MT][4];                 // O^T: channels 16 mt + gq (+ 8), heads 2q, 2q + 1
#pragma unroll
    for (int t = 0; t < MT; t++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[t][e] = 0.f;
    // ldmatrix row addresses of this lane within a stage
    const int krow = lane & 7, kcol = 8 * (lane >> 3);                     // K: keys 8j + r, d 16s + 8 (l / 8)
    const int vrow = (lane & 7) + 8 * (lane >> 4), vcol = 8 * ((lane >> 3) & 1);  // V: keys 16t + .., d 16mt + ..

    for (int kc = kfirst; kc < kend; kc += 32 * DEC_WARPS) {
        cp_async_wait<1>();  // this chunk's keys (its values may still be in flight)
        __syncwarp();
        float sacc[4][4];
#pragma unroll
        for (int j = 0; j < 4; j++) {
#pragma unroll
            for (int e = 0; e < 4; e++) sacc[j][e] = 0.f;
#pragma unroll
            for (int s = 0; s < KS; s += 2) {
                uint32_t b0, b1, b2, b3;
                ldmatrix_x4(ks + (8 * j + krow) * S::RS + 16 * s + kcol, b0, b1, b2, b3);
                mma_f16(sacc[j], qa[s][0], 0u, qa[s][1], 0u, b0, b1);
                if (s + 1 < KS) mma_f16(sacc[j], qa[s + 1][0], 0u, qa[s + 1][1], 0u, b2, b3);
            }
        }
        __syncwarp();  // every lane has read the keys: the stage takes the next chunk's
        const int next = kc + 32 * DEC_WARPS;
        if (next < kend) dec_tc_load<D>(ks, k_pool, next, kend, pt, kv_heads, g, lane);
        cp_async_commit();

        // softmax of head gq over the chunk's keys 8j + 2q (+1)
        float cm = -INFINITY;
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                if (kc + 8 * j + 2 * q + e >= kend) sacc[j][e] = -INFINITY;
                cm = fmaxf(cm, sacc[j][e]);
            }
        cm = fmaxf(cm, __shfl_xor_sync(0xffffffffu, cm, 1));
        cm = fmaxf(cm, __shfl_xor_sync(0xffffffffu, cm, 2));
        const float mn = fmaxf(m, cm);  // finite: key kc is visible
        const float alpha = exp2f(m - mn);
        m = mn;
        uint32_t pb[4];  // B fragments of P^T: keys 16t + 2q (+1) and 16t + 8 + 2q (+1), head gq
        float psum = 0.f;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const float p0 = gq < G ? exp2f(sacc[j][0] - mn) : 0.f;
            const float p1 = gq < G ? exp2f(sacc[j][1] - mn) : 0.f;
            psum += p0 + p1;
            pb[j] = pack_half2(p0, p1);
        }
        l = l * alpha + psum;
        // rescale O^T's heads 2q, 2q + 1 by their alphas (held by quads 2q and 2q + 1)
        const float a0 = __shfl_sync(0xffffffffu, alpha, 8 * q), a1 = __shfl_sync(0xffffffffu, alpha, 8 * q + 4);
#pragma unroll
        for (int t = 0; t < MT; t++) {
            o[t][0] *= a0;
            o[t][1] *= a1;
            o[t][2] *= a0;
            o[t][3] *= a1;
        }

        cp_async_wait<1>();  // this chunk's values (the next chunk's keys may still be in flight)
        __syncwarp();
#pragma unroll
        for (int t = 0; t < 2; t++) {  // 16 keys per k-step
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                uint32_t a0v, a1v, a2v, a3v;
                ldmatrix_x4_trans(vs + (16 * t + vrow) * S::RS + 16 * mt + vcol, a0v, a1v, a2v, a3v);
                mma_f16(o[mt], a0v, a1v, a2v, a3v, pb[2 * t], pb[2 * t + 1]);
            }
        }
        __syncwarp();  // every lane has read the values: the stage takes the next chunk's
        if (next < kend) dec_tc_load<D>(vs, v_pool, next, kend, pt, kv_heads, g, lane);
        cp_async_commit();
    }
    cp_async_wait<0>();

    // merge the warps (their stages are free now): each writes its (m, l, o), then the block combines
    float* os = reinterpret_cast<float*>(smem) + warp * G * D;  // [G][D] per warp, within the stages
    float* ms = reinterpret_cast<float*>(smem + DEC_WARPS * S::WARP);
    float* ls = ms + DEC_WARPS * 8;
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    __syncthreads();  // every warp is done with the stages
    if (q == 0 && gq < G) {
        ms[warp * 8 + gq] = m;
        ls[warp * 8 + gq] = l;
    }
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int h = 2 * q + (e & 1), d = 16 * mt + gq + 8 * (e >> 1);
            if (h < G) os[h * D + d] = o[mt][e];
        }
    __syncthreads();
    for (int i = threadIdx.x; i < G * D; i += blockDim.x) {
        const int h = i / D, d = i % D;
        float mx = -INFINITY;
#pragma unroll
        for (int w = 0; w < DEC_WARPS; w++) mx = fmaxf(mx, ms[w * 8 + h]);
        float acc = 0.f, lsum = 0.f;
#pragma unroll
        for (int w = 0; w < DEC_WARPS; w++) {
            const float mw = ms[w * 8 + h];
            const float f = mw == -INFINITY ? 0.f : exp2f(mw - mx);  // a warp that saw no key weighs nothing
            acc += f * reinterpret_cast<float*>(smem)[w * G * D + h * D + d];
            lsum += f * ls[w * 8 + h];
        }
        const long pr = (long) pbase * heads + g * G + h;
        part_o[pr * D + d] = acc;
        if (d == 0) {
            part_ml[2 * pr] = mx * LN2;  // natural-log units, like every partial
            part_ml[2 * pr + 1] = lsum;
        }
    }
}

#define DEC_TC_ENTRY(D, G)                                                                                      \
    KS_EXTERN void __launch_bounds__(128, 3) attn_decode_tc_d##D##_g##G(const float* qkv, int qkv_ld,            \
            const int* items, const int* seq_pt_off, const int* page_table, const __half* k_pool,                \
            const __half* v_pool, int heads, int kv_heads, float scale, float* part_o, float* part_ml) {        \
        extern __shared__ __align__(16) __half dec_tc_smem[];                                                   \
        uint32_t have;                                                                                          \
        asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(have));                                                   \
        if (have < (uint32_t) dec_tc_shared_bytes<D>()) __trap();                                               \
        attn_decode_tc<D, G>(qkv, qkv_ld, items, seq_pt_off, page_table, k_pool, v_pool, heads, kv_heads, scale, \
                             part_o, part_ml, dec_tc_smem);                                                     \
    }
#define DEC_TC_ENTRIES(D) DEC_TC_ENTRY(D, 1) DEC_TC_ENTRY(D, 2) DEC_TC_ENTRY(D, 3) DEC_TC_ENTRY(D, 4) \
    DEC_TC_ENTRY(D, 6) DEC_TC_ENTRY(D, 8)
DEC_TC_ENTRIES(32)
DEC_TC_ENTRIES(64)
DEC_TC_ENTRIES(128)

