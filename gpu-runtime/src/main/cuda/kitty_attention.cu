// Split-KV decode attention over Kitty / KIVI pages on the GPU (the pages are made by
// kitty_quantize.cu; the memory contract is in kitty_pages.cuh):
//   kitty_attention_i8_d{64,128}_g{1,2,4,8}    one warp per block, pages by TMA bulk copies,
//                                              2-bit codes as u8 operands of integer tensor-core
//                                              products (the default, section 4)
//   kitty_attention_bulk_d{64,128}_g{1,2,4,8}  four warps per block, pages by TMA bulk copies,
//                                              codes as bf16 operands (the earlier default)
//   kitty_attention_d{64,128}_g{1,2,4,8}       the same with pages by 16-byte cp.async
//   kitty_attention_combine                    merges the splits
// Checked numerically against a float64 reference (gpu-runtime/src/test/cuda/); measured in
// docs/bench/kitty-kernels.md.
//
// Build: gpu-runtime/src/main/cuda/build-ptx.sh (no --use_fast_math, no -ftz).
#include "common.cuh"
#include "kitty_attention_i8.cuh"
#include "kitty_pages.cuh"
#include "kitty_ptx.cuh"
#include "kitty_tiles.cuh"

// =============================================================================================
// 1. Split-KV decode attention over packed pages, four warps per block (bf16 code operands).
//
// Grid (split, kv head, sequence), 128 threads. A sequence's tokens are cut into tiles of
// P = 128: first ceil(min(S, len) / P) sink tiles, then body tile i = tokens S + iP .. ; body
// tile i reads key page i when i < keyPages (else the fp16 key buffer) and value page i when
// i < valuePages (else the fp16 value ring). A block takes tiles_per_split consecutive tiles.
//
// Dequantization is folded into tensor-core products, never materialized:
//   score[t]  = sum_d q_d (c_td s_d + m_d) = sum_d (q_d s_d) c_td + sum_d q_d m_d
//   out[d]   += sum_t p_t (c_td s_t + m_t) = sum_t (p_t s_t) c_td + sum_t p_t m_t
// The 2-bit codes are exact in bf16 and go in as the A operand of mma.m16n8k16; the float
// factor (q s or p s) is split into bf16 hi + lo (about 16 significant bits, fp32 range) and
// both parts are columns of B, interleaved (column 2g = hi, 2g + 1 = lo of head g) so one
// thread's accumulator pair (c0, c1) holds both halves of one head. A boosted key channel is
// its low-plane code plus 4 x its high-plane code: the high plane is a second set of k-tiles
// whose B entries are 4 q s of the channel that owns the slot.
// =============================================================================================
namespace kitty {

constexpr int NTHREADS = 128;
constexpr int NWARPS = 4;


// XOR swizzle of 16-byte chunks inside each 128-byte line of a packed plane whose rows are R
// bytes, so the 4 lanes of a quad that read rows 4 apart hit different banks.
template <int R>
__device__ __forceinline__ int swz(int a) {
    return a ^ ((((a >> 7) & (R / 8 - 1)) << 1) << 4);
}



// Two 2-bit codes at bit position 2s of the low bytes of each 16-bit half of w, as bf16x2
// exact integers: 0x4300 | c is 128 + c, minus 128.
__device__ __forceinline__ uint32_t codes_bf16x2(uint32_t w, int s) {
    uint32_t x = ((w >> (2 * s)) & 0x00030003u) | 0x43004300u;
    __nv_bfloat162 v = *reinterpret_cast<__nv_bfloat162*>(&x);
    const __nv_bfloat162 off = __floats2bfloat162_rn(128.f, 128.f);
    v = __hsub2(v, off);
    return *reinterpret_cast<uint32_t*>(&v);
}

__device__ __forceinline__ uint32_t pack2(uint32_t lo_byte, uint32_t hi_byte) {
    return __byte_perm(lo_byte, hi_byte, 0x5410);  // lo in bits 0-15, hi in bits 16-31
}

__device__ __forceinline__ void split_bf16(float x, __nv_bfloat16& hi, __nv_bfloat16& lo) {
    hi = __float2bfloat16_rn(x);
    lo = __float2bfloat16_rn(x - __bfloat162float(hi));
}

template <int D, int G>
struct AttnShape {
    static_assert(D == 64 || D == 128, "head_dim 64 or 128");
    static_assert(G == 1 || G == 2 || G == 4 || G == 8, "GQA group 1, 2, 4 or 8");
    static constexpr int NCOL = 2 * G;              // hi/lo columns of B
    static constexpr int NT = (NCOL + 7) / 8;       // n-tiles of 8 columns
    static constexpr int NCOLP = NT * 8;
    static constexpr int BMAX = D / 2;              // boosted channels supported (f <= 0.5)
    static constexpr int KPLANE_MAX = (D + BMAX) * (ATTN_P / 4);
    static constexpr int KPLANE_SMEM = (KPLANE_MAX + 127) / 128 * 128;
    static constexpr int KSTAGE = KPLANE_SMEM + 5 * D;      // planes (line padded), index, metadata
    static constexpr int VPLANE = ATTN_P * (D / 4);
    static constexpr int VSTAGE = VPLANE + 4 * ATTN_P;
    static constexpr int STAGE = (KSTAGE + VSTAGE + 15) / 16 * 16;
    static constexpr int QS_ENTRIES = D + BMAX;
    static constexpr int QS_WORDS = (QS_ENTRIES / 2 + 15) / 16 * 16 + 8;   // row stride = 8 mod 32 words
    static constexpr int PB_WORDS = (ATTN_P / 2 + 15) / 16 * 16 + 8;
    static constexpr int UNITS = D / 32;               // 32-channel units of the value product
    static constexpr int PARTS = NWARPS / UNITS;       // token parts per unit
    static constexpr int KT_PER_PART = (ATTN_P / 16) / PARTS;
    static constexpr int HPW = (G + NWARPS - 1) / NWARPS;  // softmax heads per warp
};

template <int D, int G>
struct __align__(16) AttnSmem {
    using S = AttnShape<D, G>;
    uint8_t stage[2][S::STAGE];
    uint32_t qs[S::NCOLP][S::QS_WORDS];   // bf16 pairs: B operand of the key product
    uint32_t pb[S::NCOLP][S::PB_WORDS];   // bf16 pairs: B operand of the value product
    float q[G][D];
    float score[G][ATTN_P];               // raw dot, then p in place
    float accf[G][D];                     // fp16-region values and, at the end, everything
    float qm[G];                          // sum_d q_d min_d of the current key page
    float alpha[G];
    float pm[G], m[G], l[G];
};


template <int D, int G>
__device__ __forceinline__ void issue_tile_loads(AttnSmem<D, G>& sh, int buf, const TileInfo& ti, const SeqMeta& sm,
                                                 int h, int kv_heads, int B, const uint8_t* key_pool,
                                                 const uint8_t* value_pool, const int* key_table,
                                                 const int* value_table) {
    using S = AttnShape<D, G>;
    uint8_t* st = sh.stage[buf];
    if (ti.key_packed) {
        const int plane = (D + B) * (ATTN_P / 4);
        const int bytes = plane + (B > 0 ? D : 0) + 4 * D;
        const int page = key_table[sm.key_table_offset + ti.body];
        const uint8_t* src = key_pool + ((size_t) page * kv_heads + h) * bytes;
        for (int c = threadIdx.x; c < bytes / 16; c += NTHREADS) {
            int off = c * 16;
            int dst = off < plane ? swz<ATTN_P / 4>(off) : off - plane + S::KPLANE_SMEM;
            cp_async16(st + dst, src + off);
        }
    }
    if (ti.value_packed) {
        const int bytes = S::VSTAGE;
        const int page = value_table[sm.value_table_offset + ti.body];
        const uint8_t* src = value_pool + ((size_t) page * kv_heads + h) * bytes;
        for (int c = threadIdx.x; c < bytes / 16; c += NTHREADS) {
            int off = c * 16;
            int dst = off < S::VPLANE ? swz<D / 4>(off) : off;
            cp_async16(st + S::KSTAGE + dst, src + off);
        }
    }
}



template <int D, int G>
__device__ void attention(const float* __restrict__ q, const uint8_t* __restrict__ key_pool,
                          const uint8_t* __restrict__ value_pool, const int* __restrict__ key_table,
                          const int* __restrict__ value_table, const SeqMeta* __restrict__ seqs,
                          const __half* __restrict__ fp_keys, const __half* __restrict__ fp_values,
                          float* __restrict__ part_acc, float* __restrict__ part_ml, int kv_heads, int sink,
                          int value_ring, int B, int tiles_per_split, int max_splits, float scale_log2) {
    using S = AttnShape<D, G>;
    __shared__ AttnSmem<D, G> sh;
    const int split = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const SeqMeta sm = seqs[b];
    const int tiles = num_tiles(sm.length, sink);
    const int t_begin = split * tiles_per_split;
    if (t_begin >= tiles) return;
    const int t_end = min(tiles, t_begin + tiles_per_split);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, gid = lane >> 2, tig = lane & 3;
    const int qh0 = h * G;  // first query head of this kv head's group
    const int key_index_off = S::KPLANE_SMEM;
    const int key_meta_off = S::KPLANE_SMEM + (B > 0 ? D : 0);

    // prologue: start the first tile's page loads; pull every full-precision row this block
    // will read into L2 now (one round trip for all of them instead of one per row later)
    issue_tile_loads<D, G>(sh, 0, tile_info(t_begin, sm, sink), sm, h, kv_heads, B, key_pool, value_pool, key_table,
                           value_table);
    cp_async_commit();
    for (int tile = t_begin; tile < t_end; tile++) {
        const TileInfo ti = tile_info(tile, sm, sink);
        if (tid < ti.count) {
            if (!ti.key_packed) {
                const __half* r = fp_key_row<D>(fp_keys, sm, ti.start + tid, sink, kv_heads, h);
                for (int o = 0; o < D * 2; o += 128) prefetch_l2(reinterpret_cast<const uint8_t*>(r) + o);
            }
            if (!ti.value_packed) {
                const __half* r = fp_value_row<D>(fp_values, sm, ti.start + tid, sink, value_ring, kv_heads, h);
                for (int o = 0; o < D * 2; o += 128) prefetch_l2(reinterpret_cast<const uint8_t*>(r) + o);
            }
        }
    }
    for (int i = tid; i < G * D; i += NTHREADS) sh.q[i / D][i % D] = q[((size_t) b * gridDim.y * G + qh0) * D + i];
    for (int i = tid; i < S::NCOLP * S::QS_WORDS; i += NTHREADS) (&sh.qs[0][0])[i] = 0u;
    for (int i = tid; i < S::NCOLP * S::PB_WORDS; i += NTHREADS) (&sh.pb[0][0])[i] = 0u;
    for (int i = tid; i < G * D; i += NTHREADS) (&sh.accf[0][0])[i] = 0.f;
    // softmax state of the heads this warp owns: m is warp-uniform, l and sum p*min are
    // per-lane partial sums (reduced once at the end, not every tile)
    float m_run[S::HPW], l_run[S::HPW], pm_run[S::HPW];
#pragma unroll
    for (int k = 0; k < S::HPW; k++) {
        m_run[k] = __int_as_float(0xff800000);
        l_run[k] = 0.f;
        pm_run[k] = 0.f;
    }
    float vacc[2][S::NT][4];  // value product accumulators: unit of this warp, 2 m-tiles
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < S::NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) vacc[mt][nt][e] = 0.f;
    const int unit = warp % S::UNITS, part = warp / S::UNITS;
    // swizzled smem offsets of this thread's 4 code bytes in k-tile 0; k-tile kt adds whole
    // 128-byte lines (kt * 512 for keys, kt * 16 rows for values) which the swizzle keeps
    int koff[4], voff[4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        koff[j] = swz<ATTN_P / 4>((4 * tig + j) * (ATTN_P / 4) + 8 * warp + gid);
        voff[j] = S::KSTAGE + swz<D / 4>((4 * tig + j) * (D / 4) + 8 * unit + gid);
    }

    for (int tile = t_begin; tile < t_end; tile++) {
        const int buf = (tile - t_begin) & 1;
        const TileInfo ti = tile_info(tile, sm, sink);
        cp_async_wait_all();
        __syncthreads();  // this tile's pages landed; every thread is done with the previous tile
        if (tile + 1 < t_end)
            issue_tile_loads<D, G>(sh, buf ^ 1, tile_info(tile + 1, sm, sink), sm, h, kv_heads, B, key_pool,
                                   value_pool, key_table, value_table);
        cp_async_commit();
        const uint8_t* st = sh.stage[buf];

        if (ti.key_packed) {
            // ---- phase B: B operand of the key product (thread d owns channel d) and sum q*min
            const uint8_t* meta = st + key_meta_off;
            for (int d = tid; d < D; d += NTHREADS) {
                const float sc = fp16_bits_to_float(*reinterpret_cast<const unsigned short*>(meta + 4 * d));
                const int slot = B > 0 ? st[key_index_off + d] : 0;
                __nv_bfloat16* qs = reinterpret_cast<__nv_bfloat16*>(&sh.qs[0][0]);
#pragma unroll
                for (int g = 0; g < G; g++) {
                    __nv_bfloat16 hi, lo;
                    split_bf16(sh.q[g][d] * sc, hi, lo);
                    qs[(2 * g) * (2 * S::QS_WORDS) + d] = hi;
                    qs[(2 * g + 1) * (2 * S::QS_WORDS) + d] = lo;
                    if (slot < B) {  // 4 x is exact: the high plane carries bits 2-3 of the code
                        qs[(2 * g) * (2 * S::QS_WORDS) + D + slot] = __float2bfloat16_rn(4.f * __bfloat162float(hi));
                        qs[(2 * g + 1) * (2 * S::QS_WORDS) + D + slot] = __float2bfloat16_rn(4.f * __bfloat162float(lo));
                    }
                }
            }
#pragma unroll
            for (int k = 0; k < S::HPW; k++) {  // warp per head, lanes over channels
                const int g = warp + NWARPS * k;
                if (g < G) {
                    float s = 0.f;
#pragma unroll
                    for (int d = lane; d < D; d += 32)
                        s += sh.q[g][d] * fp16_bits_to_float(*reinterpret_cast<const unsigned short*>(meta + 4 * d + 2));
#pragma unroll
                    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
                    if (lane == 0) sh.qm[g] = s;
                }
            }
            __syncthreads();

            // ---- phase C (packed): scores of this warp's 32 tokens
            float sacc[2][S::NT][4];
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int nt = 0; nt < S::NT; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) sacc[mt][nt][e] = 0.f;
            auto ktile = [&](int plane_off, int entry0) {
                uint32_t by[4];
#pragma unroll
                for (int j = 0; j < 4; j++) by[j] = st[plane_off + koff[j]];
                const uint32_t w01 = pack2(by[0], by[1]), w23 = pack2(by[2], by[3]);
                uint32_t a01[4], a23[4];
#pragma unroll
                for (int s = 0; s < 4; s++) {
                    a01[s] = codes_bf16x2(w01, s);
                    a23[s] = codes_bf16x2(w23, s);
                }
#pragma unroll
                for (int nt = 0; nt < S::NT; nt++) {
                    const uint2 bb = *reinterpret_cast<const uint2*>(&sh.qs[nt * 8 + gid][(entry0 + 4 * tig) / 2]);
#pragma unroll
                    for (int mt = 0; mt < 2; mt++)
                        mma_bf16(sacc[mt][nt], a01[2 * mt], a01[2 * mt + 1], a23[2 * mt], a23[2 * mt + 1], bb.x, bb.y);
                }
            };
#pragma unroll
            for (int kt = 0; kt < D / 16; kt++) ktile(kt * 512, kt * 16);
#pragma unroll
            for (int kh = 0; kh < S::BMAX / 16; kh++)
                if (kh * 16 < B) ktile(D * (ATTN_P / 4) + kh * 512, D + kh * 16);
#pragma unroll
            for (int nt = 0; nt < S::NT; nt++) {
                const int g = nt * 4 + tig;
                if (g < G) {
                    const float qm = sh.qm[g];
#pragma unroll
                    for (int mt = 0; mt < 2; mt++) {
                        const int t = 32 * warp + 4 * gid + 2 * mt;
                        *reinterpret_cast<float2*>(&sh.score[g][t]) =
                            make_float2((sacc[mt][nt][0] + sacc[mt][nt][1]) + qm, (sacc[mt][nt][2] + sacc[mt][nt][3]) + qm);
                    }
                }
            }
        } else {
            // ---- phase C (fp16 sink or key buffer): thread t computes all heads' dots; the
            // row's 16-byte loads are all issued before the first use
            const int t = tid;
            if (t < ti.count) {
                const uint4* k = reinterpret_cast<const uint4*>(fp_key_row<D>(fp_keys, sm, ti.start + t, sink, kv_heads, h));
                uint4 raw[D / 8];
#pragma unroll
                for (int i = 0; i < D / 8; i++) raw[i] = k[i];
                float acc[G];
#pragma unroll
                for (int g = 0; g < G; g++) acc[g] = 0.f;
#pragma unroll
                for (int i = 0; i < D / 8; i++) {
                    const __half2* hv = reinterpret_cast<const __half2*>(&raw[i]);
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const float2 kf = __half22float2(hv[e]);
#pragma unroll
                        for (int g = 0; g < G; g++)
                            acc[g] += sh.q[g][8 * i + 2 * e] * kf.x + sh.q[g][8 * i + 2 * e + 1] * kf.y;
                    }
                }
#pragma unroll
                for (int g = 0; g < G; g++) sh.score[g][t] = acc[g];
            }
        }
        __syncthreads();

        // ---- phase D: online softmax, warp per head; lanes own tokens 4 lane .. 4 lane + 3
        const uint8_t* vmeta = st + S::KSTAGE + S::VPLANE;
#pragma unroll
        for (int k = 0; k < S::HPW; k++) {
            const int g = warp + NWARPS * k;
            if (g < G) {
                const float4 raw = *reinterpret_cast<const float4*>(&sh.score[g][4 * lane]);
                float sc[4] = {raw.x * scale_log2, raw.y * scale_log2, raw.z * scale_log2, raw.w * scale_log2};
                float tmax = __int_as_float(0xff800000);
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    if (4 * lane + e >= ti.count) sc[e] = __int_as_float(0xff800000);
                    tmax = fmaxf(tmax, sc[e]);
                }
#pragma unroll
                for (int o = 16; o > 0; o >>= 1) tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o));
                const float m_new = fmaxf(m_run[k], tmax);
                const float alpha = exp2f(m_run[k] - m_new);
                float p[4], psum = 0.f;
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    p[e] = exp2f(sc[e] - m_new);
                    psum += p[e];
                }
                float pmin = 0.f;
                if (ti.value_packed) {
                    const uint4 vm = *reinterpret_cast<const uint4*>(vmeta + 16 * lane);  // (scale, min) x 4 tokens
                    const uint32_t words[4] = {vm.x, vm.y, vm.z, vm.w};
                    uint32_t hi2[2], lo2[2];
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const float vs = fp16_bits_to_float(words[e] & 0xffffu);
                        const float vmin = fp16_bits_to_float(words[e] >> 16);
                        __nv_bfloat16 hi, lo;
                        split_bf16(p[e] * vs, hi, lo);
                        const uint32_t hb = __bfloat16_as_ushort(hi), lb = __bfloat16_as_ushort(lo);
                        if (e & 1) {
                            hi2[e >> 1] |= hb << 16;
                            lo2[e >> 1] |= lb << 16;
                        } else {
                            hi2[e >> 1] = hb;
                            lo2[e >> 1] = lb;
                        }
                        pmin += p[e] * vmin;
                    }
                    *reinterpret_cast<uint2*>(&sh.pb[2 * g][2 * lane]) = make_uint2(hi2[0], hi2[1]);
                    *reinterpret_cast<uint2*>(&sh.pb[2 * g + 1][2 * lane]) = make_uint2(lo2[0], lo2[1]);
                } else {
                    *reinterpret_cast<float4*>(&sh.score[g][4 * lane]) = make_float4(p[0], p[1], p[2], p[3]);
                }
                m_run[k] = m_new;
                l_run[k] = l_run[k] * alpha + psum;
                pm_run[k] = pm_run[k] * alpha + pmin;
#pragma unroll
                for (int d = lane; d < D; d += 32) sh.accf[g][d] *= alpha;
                if (lane == 0) sh.alpha[g] = alpha;
            }
        }
        __syncthreads();

        // ---- phase E: values
#pragma unroll
        for (int nt = 0; nt < S::NT; nt++) {
            const int g = nt * 4 + tig;
            const float a = g < G ? sh.alpha[g] : 0.f;
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int e = 0; e < 4; e++) vacc[mt][nt][e] *= a;
        }
        if (ti.value_packed) {
            // A = codes [channel][token] of this warp's 32-channel unit, k-tiles of its token part
#pragma unroll
            for (int kk = 0; kk < S::KT_PER_PART; kk++) {
                const int kt = part * S::KT_PER_PART + kk;
                uint32_t by[4];
#pragma unroll
                for (int j = 0; j < 4; j++) by[j] = st[voff[j] + kt * 16 * (D / 4)];
                const uint32_t w01 = pack2(by[0], by[1]), w23 = pack2(by[2], by[3]);
                uint32_t a01[4], a23[4];
#pragma unroll
                for (int s = 0; s < 4; s++) {
                    a01[s] = codes_bf16x2(w01, s);
                    a23[s] = codes_bf16x2(w23, s);
                }
#pragma unroll
                for (int nt = 0; nt < S::NT; nt++) {
                    const uint2 bb = *reinterpret_cast<const uint2*>(&sh.pb[nt * 8 + gid][(kt * 16 + 4 * tig) / 2]);
#pragma unroll
                    for (int mt = 0; mt < 2; mt++)
                        mma_bf16(vacc[mt][nt], a01[2 * mt], a01[2 * mt + 1], a23[2 * mt], a23[2 * mt + 1], bb.x, bb.y);
                }
            }
        } else {
            // fp16 sink or value ring: thread owns a channel pair and every GROUPS-th token;
            // loads go out 16 at a time (the rows were prefetched to L2 in the prologue)
            constexpr int PAIRS = D / 2;
            constexpr int GROUPS = NTHREADS / PAIRS;
            constexpr int BATCH = 16;
            const int pair = tid % PAIRS, grp = tid / PAIRS;
            float ax[G], ay[G];
#pragma unroll
            for (int g = 0; g < G; g++) ax[g] = ay[g] = 0.f;
            for (int t0 = grp; t0 < ti.count; t0 += GROUPS * BATCH) {
                __half2 v[BATCH];
#pragma unroll
                for (int u = 0; u < BATCH; u++) {
                    const int t = t0 + u * GROUPS;
                    v[u] = t < ti.count ? *(reinterpret_cast<const __half2*>(fp_value_row<D>(
                                                fp_values, sm, ti.start + t, sink, value_ring, kv_heads, h)) +
                                            pair)
                                        : __floats2half2_rn(0.f, 0.f);
                }
#pragma unroll
                for (int u = 0; u < BATCH; u++) {
                    const int t = t0 + u * GROUPS;
                    if (t < ti.count) {
                        const float2 vf = __half22float2(v[u]);
#pragma unroll
                        for (int g = 0; g < G; g++) {
                            const float pg = sh.score[g][t];
                            ax[g] += pg * vf.x;
                            ay[g] += pg * vf.y;
                        }
                    }
                }
            }
            for (int r = 0; r < GROUPS; r++) {  // token groups add in a fixed order
                if (grp == r) {
#pragma unroll
                    for (int g = 0; g < G; g++) {
                        sh.accf[g][2 * pair] += ax[g];
                        sh.accf[g][2 * pair + 1] += ay[g];
                    }
                }
                __syncthreads();
            }
        }
    }
    cp_async_wait_all();

    // ---- epilogue: fold the tensor-core accumulators into accf (token parts in order), write
    __syncthreads();
    for (int p = 0; p < S::PARTS; p++) {
        if (part == p) {
#pragma unroll
            for (int nt = 0; nt < S::NT; nt++) {
                const int g = nt * 4 + tig;
                if (g < G) {
#pragma unroll
                    for (int mt = 0; mt < 2; mt++) {
                        const int d = 32 * unit + 4 * gid + 2 * mt;
                        sh.accf[g][d] += vacc[mt][nt][0] + vacc[mt][nt][1];
                        sh.accf[g][d + 1] += vacc[mt][nt][2] + vacc[mt][nt][3];
                    }
                }
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int k = 0; k < S::HPW; k++) {
        const int g = warp + NWARPS * k;
        if (g < G) {
            float l = l_run[k], pm = pm_run[k];
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) {
                l += __shfl_xor_sync(0xffffffffu, l, o);
                pm += __shfl_xor_sync(0xffffffffu, pm, o);
            }
            if (lane == 0) {
                sh.pm[g] = pm;
                sh.m[g] = m_run[k];
                sh.l[g] = l;
            }
        }
    }
    __syncthreads();
    const size_t base = ((size_t) b * gridDim.y * G + qh0) * max_splits + split;  // (b, head qh0, split)
    for (int i = tid; i < G * D; i += NTHREADS) {
        const int g = i / D, d = i % D;
        part_acc[(base + (size_t) g * max_splits) * D + d] = sh.accf[g][d] + sh.pm[g];
    }
    if (tid < G) {
        part_ml[(base + (size_t) tid * max_splits) * 2] = sh.m[tid];
        part_ml[(base + (size_t) tid * max_splits) * 2 + 1] = sh.l[tid];
    }
}

// ---------------------------------------------------------------------------------------------
// Variant "bulk": each tile's pages arrive by two TMA bulk copies (cp.async.bulk, one thread)
// completing on an mbarrier, instead of 16-byte cp.async chunks by every thread. Pages land
// unswizzled; bank conflicts are avoided by the k-permutation instead: within each group of 16
// tokens or channels, position perm16(x) holds x, so lane (gid, tig) reads rows tig + 4 j (the
// quad reads 4 adjacent rows) and the B operands, scores and p are stored in that order.
// ---------------------------------------------------------------------------------------------


template <int D>
struct BulkStage {
    static constexpr int BMAX = D / 2;
    static constexpr int KSTAGE = ((D + BMAX) * (ATTN_P / 4) + 5 * D + 15) / 16 * 16;  // largest key page
    static constexpr int VSTAGE = ATTN_P * (D / 4) + 4 * ATTN_P;
    static constexpr int STAGE = KSTAGE + VSTAGE;
};

template <int D, int G>
struct __align__(16) BulkSmem {
    using S = AttnShape<D, G>;
    uint8_t stage[2][BulkStage<D>::STAGE];
    uint32_t qs[S::NCOLP][S::QS_WORDS];
    uint32_t pb[S::NCOLP][S::PB_WORDS];
    float q[G][D];
    float score[G][ATTN_P];  // position perm16(t) holds token t
    float accf[G][D];
    float qm[G];
    float alpha[G];
    float pm[G], m[G], l[G];
    uint64_t bar[2];
};

// One thread: expect the tile's bytes on the stage's mbarrier, then start the copies (a tile
// with no packed page arrives with 0 bytes, so its phase completes at once).
template <int D, int G>
__device__ __forceinline__ void issue_tile_bulk(BulkSmem<D, G>& sh, int buf, const TileInfo& ti, const SeqMeta& sm,
                                                int h, int kv_heads, int B, const uint8_t* key_pool,
                                                const uint8_t* value_pool, const int* key_table,
                                                const int* value_table) {
    const uint32_t kbytes = (D + B) * (ATTN_P / 4) + (B > 0 ? D : 0) + 4 * D;
    const uint32_t vbytes = BulkStage<D>::VSTAGE;
    mbar_arrive_expect_tx(&sh.bar[buf], (ti.key_packed ? kbytes : 0u) + (ti.value_packed ? vbytes : 0u));
    if (ti.key_packed) {
        const int page = key_table[sm.key_table_offset + ti.body];
        bulk_copy(sh.stage[buf], key_pool + ((size_t) page * kv_heads + h) * kbytes, kbytes, &sh.bar[buf]);
    }
    if (ti.value_packed) {
        const int page = value_table[sm.value_table_offset + ti.body];
        bulk_copy(sh.stage[buf] + BulkStage<D>::KSTAGE, value_pool + ((size_t) page * kv_heads + h) * vbytes, vbytes,
                  &sh.bar[buf]);
    }
}

template <int D, int G>
__device__ void attention_bulk(const float* __restrict__ q, const uint8_t* __restrict__ key_pool,
                          const uint8_t* __restrict__ value_pool, const int* __restrict__ key_table,
                          const int* __restrict__ value_table, const SeqMeta* __restrict__ seqs,
                          const __half* __restrict__ fp_keys, const __half* __restrict__ fp_values,
                          float* __restrict__ part_acc, float* __restrict__ part_ml, int kv_heads, int sink,
                          int value_ring, int B, int tiles_per_split, int max_splits, float scale_log2) {
    using S = AttnShape<D, G>;
    __shared__ BulkSmem<D, G> sh;
    const int split = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const SeqMeta sm = seqs[b];
    const int tiles = num_tiles(sm.length, sink);
    const int t_begin = split * tiles_per_split;
    if (t_begin >= tiles) return;
    const int t_end = min(tiles, t_begin + tiles_per_split);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, gid = lane >> 2, tig = lane & 3;
    const int qh0 = h * G;  // first query head of this kv head's group
    const int key_index_off = (D + B) * (ATTN_P / 4);
    const int key_meta_off = key_index_off + (B > 0 ? D : 0);

    // prologue: start the first tile's page loads; pull every full-precision row this block
    // will read into L2 now (one round trip for all of them instead of one per row later)
    if (tid == 0) {
        mbar_init(&sh.bar[0], 1);
        mbar_init(&sh.bar[1], 1);
        fence_mbarrier_init();
        issue_tile_bulk<D, G>(sh, 0, tile_info(t_begin, sm, sink), sm, h, kv_heads, B, key_pool, value_pool, key_table,
                              value_table);
    }
    for (int tile = t_begin; tile < t_end; tile++) {
        const TileInfo ti = tile_info(tile, sm, sink);
        if (tid < ti.count) {
            if (!ti.key_packed) {
                const __half* r = fp_key_row<D>(fp_keys, sm, ti.start + tid, sink, kv_heads, h);
                for (int o = 0; o < D * 2; o += 128) prefetch_l2(reinterpret_cast<const uint8_t*>(r) + o);
            }
            if (!ti.value_packed) {
                const __half* r = fp_value_row<D>(fp_values, sm, ti.start + tid, sink, value_ring, kv_heads, h);
                for (int o = 0; o < D * 2; o += 128) prefetch_l2(reinterpret_cast<const uint8_t*>(r) + o);
            }
        }
    }
    for (int i = tid; i < G * D; i += NTHREADS) sh.q[i / D][i % D] = q[((size_t) b * gridDim.y * G + qh0) * D + i];
    for (int i = tid; i < S::NCOLP * S::QS_WORDS; i += NTHREADS) (&sh.qs[0][0])[i] = 0u;
    for (int i = tid; i < S::NCOLP * S::PB_WORDS; i += NTHREADS) (&sh.pb[0][0])[i] = 0u;
    for (int i = tid; i < G * D; i += NTHREADS) (&sh.accf[0][0])[i] = 0.f;
    // softmax state of the heads this warp owns: m is warp-uniform, l and sum p*min are
    // per-lane partial sums (reduced once at the end, not every tile)
    float m_run[S::HPW], l_run[S::HPW], pm_run[S::HPW];
#pragma unroll
    for (int k = 0; k < S::HPW; k++) {
        m_run[k] = __int_as_float(0xff800000);
        l_run[k] = 0.f;
        pm_run[k] = 0.f;
    }
    float vacc[2][S::NT][4];  // value product accumulators: unit of this warp, 2 m-tiles
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < S::NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) vacc[mt][nt][e] = 0.f;
    const int unit = warp % S::UNITS, part = warp / S::UNITS;
    // smem offsets of this thread's 4 code bytes in k-tile 0 (rows tig + 4 j: the 4 lanes of
    // a quad read adjacent rows, so no bank conflicts without a swizzle); k-tile kt adds
    // kt * 16 rows
    int koff[4], voff[4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        koff[j] = (tig + 4 * j) * (ATTN_P / 4) + 8 * warp + gid;
        voff[j] = BulkStage<D>::KSTAGE + (tig + 4 * j) * (D / 4) + 8 * unit + gid;
    }

    for (int tile = t_begin; tile < t_end; tile++) {
        const int buf = (tile - t_begin) & 1;
        const TileInfo ti = tile_info(tile, sm, sink);
        __syncthreads();  // every thread is done with the previous tile (its stage is reused next)
        if (tid == 0 && tile + 1 < t_end) {
            fence_proxy_async();
            issue_tile_bulk<D, G>(sh, buf ^ 1, tile_info(tile + 1, sm, sink), sm, h, kv_heads, B, key_pool, value_pool,
                                  key_table, value_table);
        }
        mbar_wait(&sh.bar[buf], ((tile - t_begin) >> 1) & 1);  // this tile's pages landed
        const uint8_t* st = sh.stage[buf];

        if (ti.key_packed) {
            // ---- phase B: B operand of the key product (thread d owns channel d) and sum q*min
            const uint8_t* meta = st + key_meta_off;
            for (int d = tid; d < D; d += NTHREADS) {
                const float sc = fp16_bits_to_float(*reinterpret_cast<const unsigned short*>(meta + 4 * d));
                const int slot = B > 0 ? st[key_index_off + d] : 0;
                __nv_bfloat16* qs = reinterpret_cast<__nv_bfloat16*>(&sh.qs[0][0]);
#pragma unroll
                for (int g = 0; g < G; g++) {
                    __nv_bfloat16 hi, lo;
                    split_bf16(sh.q[g][d] * sc, hi, lo);
                    qs[(2 * g) * (2 * S::QS_WORDS) + perm16(d)] = hi;
                    qs[(2 * g + 1) * (2 * S::QS_WORDS) + perm16(d)] = lo;
                    if (slot < B) {  // 4 x is exact: the high plane carries bits 2-3 of the code
                        qs[(2 * g) * (2 * S::QS_WORDS) + D + perm16(slot)] = __float2bfloat16_rn(4.f * __bfloat162float(hi));
                        qs[(2 * g + 1) * (2 * S::QS_WORDS) + D + perm16(slot)] =
                            __float2bfloat16_rn(4.f * __bfloat162float(lo));
                    }
                }
            }
#pragma unroll
            for (int k = 0; k < S::HPW; k++) {  // warp per head, lanes over channels
                const int g = warp + NWARPS * k;
                if (g < G) {
                    float s = 0.f;
#pragma unroll
                    for (int d = lane; d < D; d += 32)
                        s += sh.q[g][d] * fp16_bits_to_float(*reinterpret_cast<const unsigned short*>(meta + 4 * d + 2));
#pragma unroll
                    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
                    if (lane == 0) sh.qm[g] = s;
                }
            }
            __syncthreads();

            // ---- phase C (packed): scores of this warp's 32 tokens
            float sacc[2][S::NT][4];
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int nt = 0; nt < S::NT; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) sacc[mt][nt][e] = 0.f;
            auto ktile = [&](int plane_off, int entry0) {
                uint32_t by[4];
#pragma unroll
                for (int j = 0; j < 4; j++) by[j] = st[plane_off + koff[j]];
                const uint32_t w01 = pack2(by[0], by[1]), w23 = pack2(by[2], by[3]);
                uint32_t a01[4], a23[4];
#pragma unroll
                for (int s = 0; s < 4; s++) {
                    a01[s] = codes_bf16x2(w01, s);
                    a23[s] = codes_bf16x2(w23, s);
                }
#pragma unroll
                for (int nt = 0; nt < S::NT; nt++) {
                    const uint2 bb = *reinterpret_cast<const uint2*>(&sh.qs[nt * 8 + gid][(entry0 + 4 * tig) / 2]);
#pragma unroll
                    for (int mt = 0; mt < 2; mt++)
                        mma_bf16(sacc[mt][nt], a01[2 * mt], a01[2 * mt + 1], a23[2 * mt], a23[2 * mt + 1], bb.x, bb.y);
                }
            };
#pragma unroll
            for (int kt = 0; kt < D / 16; kt++) ktile(kt * 512, kt * 16);
#pragma unroll
            for (int kh = 0; kh < S::BMAX / 16; kh++)
                if (kh * 16 < B) ktile(D * (ATTN_P / 4) + kh * 512, D + kh * 16);
#pragma unroll
            for (int nt = 0; nt < S::NT; nt++) {
                const int g = nt * 4 + tig;
                if (g < G) {
                    const float qm = sh.qm[g];
#pragma unroll
                    for (int mt = 0; mt < 2; mt++) {
                        const int t = 32 * warp + 4 * gid + 2 * mt;
                        sh.score[g][perm16(t)] = (sacc[mt][nt][0] + sacc[mt][nt][1]) + qm;
                        sh.score[g][perm16(t + 1)] = (sacc[mt][nt][2] + sacc[mt][nt][3]) + qm;
                    }
                }
            }
        } else {
            // ---- phase C (fp16 sink or key buffer): thread t computes all heads' dots; the
            // row's 16-byte loads are all issued before the first use
            const int t = tid;
            if (t < ti.count) {
                const uint4* k = reinterpret_cast<const uint4*>(fp_key_row<D>(fp_keys, sm, ti.start + t, sink, kv_heads, h));
                uint4 raw[D / 8];
#pragma unroll
                for (int i = 0; i < D / 8; i++) raw[i] = k[i];
                float acc[G];
#pragma unroll
                for (int g = 0; g < G; g++) acc[g] = 0.f;
#pragma unroll
                for (int i = 0; i < D / 8; i++) {
                    const __half2* hv = reinterpret_cast<const __half2*>(&raw[i]);
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const float2 kf = __half22float2(hv[e]);
#pragma unroll
                        for (int g = 0; g < G; g++)
                            acc[g] += sh.q[g][8 * i + 2 * e] * kf.x + sh.q[g][8 * i + 2 * e + 1] * kf.y;
                    }
                }
#pragma unroll
                for (int g = 0; g < G; g++) sh.score[g][perm16(t)] = acc[g];
            }
        }
        __syncthreads();

        // ---- phase D: online softmax, warp per head; lanes own tokens 4 lane .. 4 lane + 3
        const uint8_t* vmeta = st + BulkStage<D>::KSTAGE + S::VPLANE;
#pragma unroll
        for (int k = 0; k < S::HPW; k++) {
            const int g = warp + NWARPS * k;
            if (g < G) {
                const float4 raw = *reinterpret_cast<const float4*>(&sh.score[g][4 * lane]);
                float sc[4] = {raw.x * scale_log2, raw.y * scale_log2, raw.z * scale_log2, raw.w * scale_log2};
                float tmax = __int_as_float(0xff800000);
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    if (perm16(4 * lane + e) >= ti.count) sc[e] = __int_as_float(0xff800000);
                    tmax = fmaxf(tmax, sc[e]);
                }
#pragma unroll
                for (int o = 16; o > 0; o >>= 1) tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o));
                const float m_new = fmaxf(m_run[k], tmax);
                const float alpha = exp2f(m_run[k] - m_new);
                float p[4], psum = 0.f;
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    p[e] = exp2f(sc[e] - m_new);
                    psum += p[e];
                }
                float pmin = 0.f;
                if (ti.value_packed) {
                    uint32_t words[4];  // (scale, min) of the lane's 4 tokens
#pragma unroll
                    for (int e = 0; e < 4; e++) words[e] = *reinterpret_cast<const uint32_t*>(vmeta + 4 * perm16(4 * lane + e));
                    uint32_t hi2[2], lo2[2];
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const float vs = fp16_bits_to_float(words[e] & 0xffffu);
                        const float vmin = fp16_bits_to_float(words[e] >> 16);
                        __nv_bfloat16 hi, lo;
                        split_bf16(p[e] * vs, hi, lo);
                        const uint32_t hb = __bfloat16_as_ushort(hi), lb = __bfloat16_as_ushort(lo);
                        if (e & 1) {
                            hi2[e >> 1] |= hb << 16;
                            lo2[e >> 1] |= lb << 16;
                        } else {
                            hi2[e >> 1] = hb;
                            lo2[e >> 1] = lb;
                        }
                        pmin += p[e] * vmin;
                    }
                    *reinterpret_cast<uint2*>(&sh.pb[2 * g][2 * lane]) = make_uint2(hi2[0], hi2[1]);
                    *reinterpret_cast<uint2*>(&sh.pb[2 * g + 1][2 * lane]) = make_uint2(lo2[0], lo2[1]);
                } else {
                    *reinterpret_cast<float4*>(&sh.score[g][4 * lane]) = make_float4(p[0], p[1], p[2], p[3]);
                }
                m_run[k] = m_new;
                l_run[k] = l_run[k] * alpha + psum;
                pm_run[k] = pm_run[k] * alpha + pmin;
#pragma unroll
                for (int d = lane; d < D; d += 32) sh.accf[g][d] *= alpha;
                if (lane == 0) sh.alpha[g] = alpha;
            }
        }
        __syncthreads();

        // ---- phase E: values
#pragma unroll
        for (int nt = 0; nt < S::NT; nt++) {
            const int g = nt * 4 + tig;
            const float a = g < G ? sh.alpha[g] : 0.f;
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int e = 0; e < 4; e++) vacc[mt][nt][e] *= a;
        }
        if (ti.value_packed) {
            // A = codes [channel][token] of this warp's 32-channel unit, k-tiles of its token part
#pragma unroll
            for (int kk = 0; kk < S::KT_PER_PART; kk++) {
                const int kt = part * S::KT_PER_PART + kk;
                uint32_t by[4];
#pragma unroll
                for (int j = 0; j < 4; j++) by[j] = st[voff[j] + kt * 16 * (D / 4)];
                const uint32_t w01 = pack2(by[0], by[1]), w23 = pack2(by[2], by[3]);
                uint32_t a01[4], a23[4];
#pragma unroll
                for (int s = 0; s < 4; s++) {
                    a01[s] = codes_bf16x2(w01, s);
                    a23[s] = codes_bf16x2(w23, s);
                }
#pragma unroll
                for (int nt = 0; nt < S::NT; nt++) {
                    const uint2 bb = *reinterpret_cast<const uint2*>(&sh.pb[nt * 8 + gid][(kt * 16 + 4 * tig) / 2]);
#pragma unroll
                    for (int mt = 0; mt < 2; mt++)
                        mma_bf16(vacc[mt][nt], a01[2 * mt], a01[2 * mt + 1], a23[2 * mt], a23[2 * mt + 1], bb.x, bb.y);
                }
            }
        } else {
            // fp16 sink or value ring: thread owns a channel pair and every GROUPS-th token;
            // loads go out 16 at a time (the rows were prefetched to L2 in the prologue)
            constexpr int PAIRS = D / 2;
            constexpr int GROUPS = NTHREADS / PAIRS;
            constexpr int BATCH = 16;
            const int pair = tid % PAIRS, grp = tid / PAIRS;
            float ax[G], ay[G];
#pragma unroll
            for (int g = 0; g < G; g++) ax[g] = ay[g] = 0.f;
            for (int t0 = grp; t0 < ti.count; t0 += GROUPS * BATCH) {
                __half2 v[BATCH];
#pragma unroll
                for (int u = 0; u < BATCH; u++) {
                    const int t = t0 + u * GROUPS;
                    v[u] = t < ti.count ? *(reinterpret_cast<const __half2*>(fp_value_row<D>(
                                                fp_values, sm, ti.start + t, sink, value_ring, kv_heads, h)) +
                                            pair)
                                        : __floats2half2_rn(0.f, 0.f);
                }
#pragma unroll
                for (int u = 0; u < BATCH; u++) {
                    const int t = t0 + u * GROUPS;
                    if (t < ti.count) {
                        const float2 vf = __half22float2(v[u]);
#pragma unroll
                        for (int g = 0; g < G; g++) {
                            const float pg = sh.score[g][perm16(t)];
                            ax[g] += pg * vf.x;
                            ay[g] += pg * vf.y;
                        }
                    }
                }
            }
            for (int r = 0; r < GROUPS; r++) {  // token groups add in a fixed order
                if (grp == r) {
#pragma unroll
                    for (int g = 0; g < G; g++) {
                        sh.accf[g][2 * pair] += ax[g];
                        sh.accf[g][2 * pair + 1] += ay[g];
                    }
                }
                __syncthreads();
            }
        }
    }

    // ---- epilogue: fold the tensor-core accumulators into accf (token parts in order), write
    __syncthreads();
    for (int p = 0; p < S::PARTS; p++) {
        if (part == p) {
#pragma unroll
            for (int nt = 0; nt < S::NT; nt++) {
                const int g = nt * 4 + tig;
                if (g < G) {
#pragma unroll
                    for (int mt = 0; mt < 2; mt++) {
                        const int d = 32 * unit + 4 * gid + 2 * mt;
                        sh.accf[g][d] += vacc[mt][nt][0] + vacc[mt][nt][1];
                        sh.accf[g][d + 1] += vacc[mt][nt][2] + vacc[mt][nt][3];
                    }
                }
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int k = 0; k < S::HPW; k++) {
        const int g = warp + NWARPS * k;
        if (g < G) {
            float l = l_run[k], pm = pm_run[k];
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) {
                l += __shfl_xor_sync(0xffffffffu, l, o);
                pm += __shfl_xor_sync(0xffffffffu, pm, o);
            }
            if (lane == 0) {
                sh.pm[g] = pm;
                sh.m[g] = m_run[k];
                sh.l[g] = l;
            }
        }
    }
    __syncthreads();
    const size_t base = ((size_t) b * gridDim.y * G + qh0) * max_splits + split;  // (b, head qh0, split)
    for (int i = tid; i < G * D; i += NTHREADS) {
        const int g = i / D, d = i % D;
        part_acc[(base + (size_t) g * max_splits) * D + d] = sh.accf[g][d] + sh.pm[g];
    }
    if (tid < G) {
        part_ml[(base + (size_t) tid * max_splits) * 2] = sh.m[tid];
        part_ml[(base + (size_t) tid * max_splits) * 2 + 1] = sh.l[tid];
    }
}

}  // namespace kitty

// MINB: resident blocks per multiprocessor the register allocation must allow (shared memory
// allows about 6 at D=128, G<=4 and 4 at G=8); the largest value without spills in the
// ptxas report (-Xptxas -v).
#define KITTY_ATTENTION(D, G, MINB)                                                                                        \
    extern "C" __global__ void __launch_bounds__(kitty::NTHREADS, MINB) kitty_attention_d##D##_g##G(                       \
        const float* q, const uint8_t* key_pool, const uint8_t* value_pool, const int* key_table,                   \
        const int* value_table, const kitty::SeqMeta* seqs, const __half* fp_keys, const __half* fp_values,          \
        float* part_acc, float* part_ml, int kv_heads, int sink, int value_ring, int boosted, int tiles_per_split,    \
        int max_splits, float scale_log2) {                                                                          \
        kitty::attention<D, G>(q, key_pool, value_pool, key_table, value_table, seqs, fp_keys, fp_values, part_acc, \
                               part_ml, kv_heads, sink, value_ring, boosted, tiles_per_split, max_splits,           \
                               scale_log2);                                                                          \
    }
#define KITTY_ATTENTION_BULK(D, G, MINB)                                                                             \
    extern "C" __global__ void __launch_bounds__(kitty::NTHREADS, MINB) kitty_attention_bulk_d##D##_g##G(            \
        const float* q, const uint8_t* key_pool, const uint8_t* value_pool, const int* key_table,                   \
        const int* value_table, const kitty::SeqMeta* seqs, const __half* fp_keys, const __half* fp_values,          \
        float* part_acc, float* part_ml, int kv_heads, int sink, int value_ring, int boosted, int tiles_per_split,    \
        int max_splits, float scale_log2) {                                                                          \
        kitty::attention_bulk<D, G>(q, key_pool, value_pool, key_table, value_table, seqs, fp_keys, fp_values,      \
                                    part_acc, part_ml, kv_heads, sink, value_ring, boosted, tiles_per_split,         \
                                    max_splits, scale_log2);                                                         \
    }
KITTY_ATTENTION(64, 1, 6)
KITTY_ATTENTION(64, 2, 6)
KITTY_ATTENTION(64, 4, 6)
KITTY_ATTENTION(64, 8, 5)
KITTY_ATTENTION(128, 1, 5)
KITTY_ATTENTION(128, 2, 6)
KITTY_ATTENTION(128, 4, 6)
KITTY_ATTENTION(128, 8, 4)
KITTY_ATTENTION_BULK(64, 1, 6)
KITTY_ATTENTION_BULK(64, 2, 5)
KITTY_ATTENTION_BULK(64, 4, 6)
KITTY_ATTENTION_BULK(64, 8, 5)
KITTY_ATTENTION_BULK(128, 1, 5)
KITTY_ATTENTION_BULK(128, 2, 6)
KITTY_ATTENTION_BULK(128, 4, 6)
KITTY_ATTENTION_BULK(128, 8, 4)

// Merges the splits of each (sequence, query head): m in log2 units, acc unnormalized.
// Grid (query heads, sequences), 128 threads. The split maxima and weights are reduced in
// parallel and staged in shared memory so the per-channel loop issues independent loads.
namespace kitty {
__device__ __forceinline__ float block_reduce(float v, bool is_max, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) {
        float w = __shfl_xor_sync(0xffffffffu, v, o);
        v = is_max ? fmaxf(v, w) : v + w;
    }
    if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
    __syncthreads();
    float r = scratch[0];
    for (int i = 1; i < (int) (blockDim.x >> 5); i++) r = is_max ? fmaxf(r, scratch[i]) : r + scratch[i];
    __syncthreads();
    return r;
}
}  // namespace kitty

extern "C" __global__ void __launch_bounds__(128) kitty_attention_combine(const float* __restrict__ part_acc,
                                                                       const float* __restrict__ part_ml,
                                                                       const kitty::SeqMeta* __restrict__ seqs,
                                                                       float* __restrict__ out, int D, int sink,
                                                                       int tiles_per_split, int max_splits) {
    constexpr int CHUNK = 256;
    __shared__ float weight[CHUNK];
    __shared__ float scratch[4];
    const int hq = blockIdx.x, b = blockIdx.y, heads = gridDim.x;
    const int tiles = kitty::num_tiles(seqs[b].length, sink);
    const int splits = (tiles + tiles_per_split - 1) / tiles_per_split;
    const size_t base = ((size_t) b * heads + hq) * max_splits;
    float m = __int_as_float(0xff800000);
    for (int s = threadIdx.x; s < splits; s += blockDim.x) m = fmaxf(m, part_ml[(base + s) * 2]);
    m = kitty::block_reduce(m, true, scratch);
    float l = 0.f;
    for (int s = threadIdx.x; s < splits; s += blockDim.x)
        l += exp2f(part_ml[(base + s) * 2] - m) * part_ml[(base + s) * 2 + 1];
    l = kitty::block_reduce(l, false, scratch);
    const float inv = splits > 0 ? 1.f / l : 0.f;
    for (int d0 = 0; d0 < D; d0 += blockDim.x) {
        const int d = d0 + threadIdx.x;
        float acc = 0.f;
        for (int s0 = 0; s0 < splits; s0 += CHUNK) {
            const int n = min(CHUNK, splits - s0);
            for (int s = threadIdx.x; s < n; s += blockDim.x) weight[s] = exp2f(part_ml[(base + s0 + s) * 2] - m);
            __syncthreads();
            if (d < D) {
#pragma unroll 8
                for (int s = 0; s < n; s++) acc += weight[s] * part_acc[(base + s0 + s) * D + d];
            }
            __syncthreads();
        }
        if (d < D) out[((size_t) b * heads + hq) * D + d] = acc * inv;
    }
}

// Section 4, variant "i8" (kitty_attention_i8.cuh): grid (split, kv head, sequence), 32 threads,
// dynamic shared memory i8_shared_bytes(boosted) (KittyKernels.i8SharedBytes), checked here:
// a launch with less traps instead of writing past it. MINB: blocks per SM, 12 for G <= 4
// (shared memory allows 13 at D = 128, B <= 32; 168 registers per thread, no spills at D = 128),
// 8 for G = 8, whose three B columns per head need more than 168 registers.
#define KITTY_ATTENTION_I8(D, G, MINB)                                                                               \
    extern "C" __global__ void __launch_bounds__(32, MINB) kitty_attention_i8_d##D##_g##G(                           \
        const float* q, const uint8_t* key_pool, const uint8_t* value_pool, const int* key_table,                   \
        const int* value_table, const kitty::SeqMeta* seqs, const __half* fp_keys, const __half* fp_values,          \
        float* part_acc, float* part_ml, int kv_heads, int sink, int value_ring, int boosted, int tiles_per_split,    \
        int max_splits, float scale_log2) {                                                                          \
        extern __shared__ __align__(128) uint8_t i8_smem[];                                                          \
        uint32_t have;                                                                                               \
        asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(have));                                                        \
        if (have < (uint32_t) kitty::i8_shared_bytes<D, G>(boosted)) __trap();                                      \
        kitty::attention_i8<D, G>(q, key_pool, value_pool, key_table, value_table, seqs, fp_keys, fp_values,        \
                                  part_acc, part_ml, kv_heads, sink, value_ring, boosted, tiles_per_split,           \
                                  max_splits, scale_log2, i8_smem, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x); \
    }
KITTY_ATTENTION_I8(64, 1, 12)
KITTY_ATTENTION_I8(64, 2, 12)
KITTY_ATTENTION_I8(64, 4, 12)
KITTY_ATTENTION_I8(64, 8, 8)
KITTY_ATTENTION_I8(128, 1, 12)
KITTY_ATTENTION_I8(128, 2, 12)
KITTY_ATTENTION_I8(128, 4, 12)
KITTY_ATTENTION_I8(128, 8, 8)
