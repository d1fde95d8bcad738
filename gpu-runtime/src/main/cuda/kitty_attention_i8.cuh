// Decode attention variant "i8" (kernels kitty_attention_i8_d*_g*, entries in kitty_attention.cu):
// one warp per block (one split), pages by TMA bulk copies into the warp's own key and value
// stages, and both products on integer tensor cores (mma.m16n8k32, u8 x s8 -> s32).
//
// Why: the bf16 variants spend most of their issue slots turning 2-bit codes into bf16 pairs
// (shift, mask, or, subtract per two codes) and wait at four barriers per tile. Here:
//  - A = the codes as u8. A register holds 4 k-rows' codes (channels of a key page, tokens
//    of a value page) for one m-row. A lane reads one 32-bit word (16 m-rows) of each of 4
//    k-rows, transposes the 4 x 4 bytes (8 byte_perms), and each transposed word gives 4
//    registers with one AND each: code s of each byte stays in place, i.e. is scaled by 4^s
//    (s = 3 is shifted down once first: scales 1, 4, 16, 16). The scale belongs to the
//    m-row, so it is divided out of that row's result (exact: a power of 2). A boosted
//    channel's high-plane code is masked one step higher: 4 x its code, in its slot's column.
//  - B = the float factor (q_d s_d for keys, p_t s_t for values) as a fixed-point integer of
//    21 bits relative to its largest magnitude in the tile (a power-of-2 scale per head), as
//    three balanced base-128 digits in [-64, 64]: three columns of B. The int32 accumulators
//    are exact (< 2^24) and the digits are recombined in fp32. The factor's error is 2^-21 of
//    the tile's largest term, finer than the bf16 hi + lo split it replaces.
//  - no block barriers: each warp walks its split alone. One stage per page kind, staggered:
//    the next key page is copied while this tile's softmax and value product run, the next
//    value page while the next key product runs. That halves the shared memory of a double
//    buffer, so 12 warps fit an SM (168 registers) instead of 8, and the SM hides one warp's
//    dependency chains behind the others'.
// k positions are permuted within each 32: position p holds k-row perm16(p), so a quad's 4
// lanes read rows 1 apart (32 bytes: distinct banks) and a lane's B word covers 4 consecutive
// positions. Columns: for G <= 4, head g's digits 0, 1 are columns 2g, 2g + 1 and digit 2 is
// column 8 + 2g; for G = 8 head g = 4u + j has 8u + 2j, 8u + 2j + 1 and 16 + 2j + u. So the
// lane with tig = j holds all digits of heads j (and j + 4) in its accumulators, for its 16
// m-rows: tokens (keys) or channels (values) 16 gid + 0..15 (8 gid + 0..7 for values at D = 64).
// fp16 tiles (sink, key buffer, value ring: a few per sequence) take CUDA-core paths.
//
// Device code only through kitty_ptx.cuh's primitives and CUDA intrinsics, with no launch
// built-ins (the entry passes block and lane), so that a host emulation of one warp
// (gpu-runtime/src/test/cuda/emulator/) runs this same code.
#pragma once
#include <cuda_fp16.h>
#include <stdint.h>

#include "kitty_pages.cuh"
#include "kitty_ptx.cuh"
#include "kitty_tiles.cuh"

namespace kitty {

template <int D, int G>
struct I8Shape {
    static_assert(D == 64 || D == 128, "head_dim 64 or 128");
    static_assert(G == 1 || G == 2 || G == 4 || G == 8, "GQA group 1, 2, 4 or 8");
    static constexpr int NT = G == 8 ? 3 : 2;          // n-tiles of 8 B columns
    static constexpr int NCOL = 8 * NT;
    static constexpr int HPT = G == 8 ? 2 : 1;         // heads per lane: tig (and tig + 4)
    static constexpr int KT_LOW = D / 32;              // key k-tiles of the low plane
    static constexpr int KT_BOOST_MAX = D / 64;        // and of the high plane (B <= D / 2)
    static constexpr int KROW = D + 32 * KT_BOOST_MAX; // B bytes per column of the key product
    static constexpr int KRSW = (KROW / 4 + 3) / 8 * 8 + 4;  // row stride in words, 4 mod 8: no bank conflicts
    static constexpr int VRSW = 36;                    // 128 tokens = 32 words, padded likewise
    static constexpr int QUADS = D / 4;                // lanes that build the key B operand (4 positions each)
    static constexpr int CW = D / 32;                  // bytes of a value row one lane reads (16 or 8 channels)
    static constexpr int MT_V = D / 16;                // m-tiles of the value product
    static constexpr int CPT = D / 8;                  // value channels per lane
    static constexpr int VSTAGE = ATTN_P * (D / 4) + 4 * ATTN_P;
    static constexpr int BK_BYTES = NCOL * KRSW * 4;
    static constexpr int BV_MIN = NCOL * VRSW * 4;
    // the B region of the values doubles as the fp16 paths' scratch: scores [G][P], p [P][G], sums [G][D]
    static constexpr int BV_BYTES = BV_MIN > 4 * G * D ? (BV_MIN > 512 * G ? BV_MIN : 512 * G)
                                                         : (4 * G * D > 512 * G ? 4 * G * D : 512 * G);
};

// Bytes of a key page with B boosted channels, and of its stage (room for every high-plane row
// the boosted k-tiles read); KittyKernels.i8SharedBytes mirrors this layout.
__device__ __forceinline__ int i8_key_page_bytes(int D, int B) { return 32 * (D + B) + (B > 0 ? D : 0) + 4 * D; }
__device__ __forceinline__ int i8_key_stage_bytes(int D, int B) {
    const int rows = 32 * (D + 32 * ((B + 31) / 32));
    const int page = i8_key_page_bytes(D, B);
    return ((page > rows ? page : rows) + 15) / 16 * 16;
}

// Dynamic shared memory of one block: one key page stage, one value page stage, the two B
// operands and an mbarrier per stage.
template <int D, int G>
__device__ __forceinline__ int i8_shared_bytes(int B) {
    using S = I8Shape<D, G>;
    return i8_key_stage_bytes(D, B) + S::VSTAGE + S::BK_BYTES + S::BV_BYTES + 16;
}

constexpr float I8_MAGIC = 12582912.0f;  // 1.5 * 2^23: x + MAGIC rounds x to an integer held in the low mantissa bits

// |x| <= 2^20 as three balanced base-128 digits, each the low byte of a float's bits:
// x = 16384 d2 + 128 d1 + d0 + e, |e| <= 1/2, every step exact but the three roundings.
__device__ __forceinline__ void i8_digits(float x, uint32_t& d0, uint32_t& d1, uint32_t& d2) {
    const float f2 = __fmaf_rn(x, 1.f / 16384.f, I8_MAGIC);
    const float r1 = __fmaf_rn(__fsub_rn(I8_MAGIC, f2), 16384.f, x);
    const float f1 = __fmaf_rn(r1, 1.f / 128.f, I8_MAGIC);
    const float r0 = __fmaf_rn(__fsub_rn(I8_MAGIC, f1), 128.f, r1);
    const float f0 = __fadd_rn(r0, I8_MAGIC);
    d0 = __float_as_uint(f0);
    d1 = __float_as_uint(f1);
    d2 = __float_as_uint(f2);
}

// f = 2^k such that amax * f is in [2^19, 2^20), and inv = 1 / f (both normal floats).
__device__ __forceinline__ void i8_fixed_scale(float amax, float& f, float& inv) {
    const int e = (__float_as_int(amax) >> 23) & 0xff;
    const int k = min(max(273 - e, 1), 253);
    f = __int_as_float(k << 23);
    inv = __int_as_float((254 - k) << 23);
}

// Low bytes of a, b, c, d as one word (byte 0 = a).
__device__ __forceinline__ uint32_t i8_low_bytes(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    return __byte_perm(__byte_perm(a, b, 0x0040), __byte_perm(c, d, 0x0040), 0x5410);
}

// v_c = byte c of w0, w1, w2, w3 (a 4 x 4 byte transpose).
__device__ __forceinline__ void i8_transpose4(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3, uint32_t& v0,
                                              uint32_t& v1, uint32_t& v2, uint32_t& v3) {
    const uint32_t a = __byte_perm(w0, w1, 0x5140), b = __byte_perm(w0, w1, 0x7362);
    const uint32_t c = __byte_perm(w2, w3, 0x5140), d = __byte_perm(w2, w3, 0x7362);
    v0 = __byte_perm(a, c, 0x5410);
    v1 = __byte_perm(a, c, 0x7632);
    v2 = __byte_perm(b, d, 0x5410);
    v3 = __byte_perm(b, d, 0x7632);
}

// v_c = byte c of the low halves h0..h3 (c = 0, 1).
__device__ __forceinline__ void i8_transpose2(uint32_t h0, uint32_t h1, uint32_t h2, uint32_t h3, uint32_t& v0,
                                              uint32_t& v1) {
    const uint32_t a = __byte_perm(h0, h1, 0x5140), c = __byte_perm(h2, h3, 0x5140);
    v0 = __byte_perm(a, c, 0x5410);
    v1 = __byte_perm(a, c, 0x7632);
}

// Code s of every byte of v, as u8 scaled by 4^s (s = 3: by 16); the high plane's by 4 more.
template <bool HIGH>
__device__ __forceinline__ uint32_t i8_codes(uint32_t v, int s) {
    if (HIGH) {
        return s == 3 ? (v & 0xc0c0c0c0u) : ((v << 2) & (0x0c0c0c0cu << (2 * s)));
    }
    return s == 3 ? ((v >> 2) & 0x30303030u) : (v & (0x03030303u << (2 * s)));
}

// 1 / the scale of m-row h of m-tile mt (code s = 2 (mt & 1) + h).
__device__ __forceinline__ float i8_row_inv(int mt, int h) {
    return (mt & 1) ? 1.f / 16.f : (h ? 0.25f : 1.f);
}


// B column of digit l of head g (see the section comment).
template <int G>
__device__ __forceinline__ int i8_col(int g, int l) {
    if (G == 8) {
        return l < 2 ? 8 * (g >> 2) + 2 * (g & 3) + l : 16 + 2 * (g & 3) + (g >> 2);
    }
    return l < 2 ? 2 * g + l : 8 + 2 * g;
}

// The three digit sums of head slot u (head tig + 4u) in row h of m-tile acc, recombined.
template <int G, int NT>
__device__ __forceinline__ float i8_value(const int (&acc)[NT][4], int u, int h) {
    int l0, l1, l2;
    if (G == 8) {
        l0 = acc[u][2 * h];
        l1 = acc[u][2 * h + 1];
        l2 = acc[2][2 * h + u];
    } else {
        l0 = acc[0][2 * h];
        l1 = acc[0][2 * h + 1];
        l2 = acc[1][2 * h];
    }
    return __fmaf_rn((float) l2, 16384.f, (float) (l0 + 128 * l1));
}

// G per-lane values reduced over the warp, transposed: each exchange of the first log2(G) halves
// what a lane holds (it keeps half, sends half), the rest reduce one value; afterwards the lane
// holds the total of value i8_head_of<G>(lane). 10 shuffles for G = 4 instead of 20.
template <int G, bool MAX>
__device__ __forceinline__ float i8_reduce_scatter(const float (&v)[G], int lane) {
    float cur[G];
#pragma unroll
    for (int g = 0; g < G; g++) cur[g] = v[g];
    int w = 16;
#pragma unroll
    for (int n = G; n > 1; n >>= 1, w >>= 1) {
        const bool upper = (lane & w) != 0;
#pragma unroll
        for (int i = 0; i < n / 2; i++) {
            const float keep = upper ? cur[n / 2 + i] : cur[i];
            const float send = upper ? cur[i] : cur[n / 2 + i];
            const float got = __shfl_xor_sync(0xffffffffu, send, w);
            cur[i] = MAX ? fmaxf(keep, got) : keep + got;
        }
    }
#pragma unroll
    for (; w > 0; w >>= 1) {
        const float got = __shfl_xor_sync(0xffffffffu, cur[0], w);
        cur[0] = MAX ? fmaxf(cur[0], got) : cur[0] + got;
    }
    return cur[0];
}

// The first lane that holds value g after i8_reduce_scatter<G> (lane bits 4, 3, 2 pick it).
template <int G>
__device__ __forceinline__ int i8_lane_of(int g) {
    return g << (G == 1 ? 5 : G == 2 ? 4 : G == 4 ? 3 : 2);
}

// Over the 8 lanes of one tig (lanes tig, tig + 4, ..., tig + 28): they hold one head.
__device__ __forceinline__ float i8_head_max(float v) {
#pragma unroll
    for (int o = 4; o < 32; o <<= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ float i8_head_sum(float v) {
#pragma unroll
    for (int o = 4; o < 32; o <<= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// ---- key product over a packed key page -------------------------------------------------------

// B operand of the key product (q_d s_d of every head, in digits) and sum_d q_d min_d per head.
// Lane quad owns positions 4 quad .. 4 quad + 3 (channels perm16 of them); at D = 64 lanes
// 16..31 repeat lanes 0..15 without writing. The high plane's rows are gathered once the low
// plane's are written: boosted slot s takes the bytes of its channel's low-plane position
// (inv[s], in scratch), a word per lane and column, rather than each lane scattering single
// bytes for its boosted channels (that scatter was 8% of the kernel's instructions).
template <int D, int G>
__device__ __forceinline__ void i8_key_operand(const uint8_t* kst, uint8_t* bk, const float (&qreg)[4][G], int B,
                                               int lane, int tig, uint8_t* inv, float (&invf_mine)[I8Shape<D, G>::HPT],
                                               float (&qm_mine)[I8Shape<D, G>::HPT]) {
    using S = I8Shape<D, G>;
    float invf[G], qm[G];  // qm: this lane's part of sum_d q_d min_d per head
    const int quad = lane % S::QUADS;
    const bool active = lane < S::QUADS;
    const uint8_t* index = kst + 32 * (D + B);
    const uint8_t* meta = index + (B > 0 ? D : 0);
    float x[4][G], amax[G];
    int slot[4];
#pragma unroll
    for (int g = 0; g < G; g++) {
        amax[g] = 0.f;
        qm[g] = 0.f;
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int ch = perm16(4 * quad + j);
        const uint32_t w = *reinterpret_cast<const uint32_t*>(meta + 4 * ch);
        const float sc = fp16_bits_to_float(w & 0xffffu);
        const float mn = active ? fp16_bits_to_float(w >> 16) : 0.f;
        slot[j] = B > 0 ? index[ch] : B;
#pragma unroll
        for (int g = 0; g < G; g++) {
            x[j][g] = qreg[j][g] * sc;
            amax[g] = fmaxf(amax[g], fabsf(x[j][g]));
            qm[g] = __fmaf_rn(qreg[j][g], mn, qm[g]);
        }
    }
    const float amax_held = i8_reduce_scatter<G, true>(amax, lane);
    const float qm_held = i8_reduce_scatter<G, false>(qm, lane);
#pragma unroll
    for (int g = 0; g < G; g++) amax[g] = __shfl_sync(0xffffffffu, amax_held, i8_lane_of<G>(g));
#pragma unroll
    for (int u = 0; u < S::HPT; u++)  // lanes past the group take a copy, never written out
        qm_mine[u] = __shfl_sync(0xffffffffu, qm_held, i8_lane_of<G>(min(tig + 4 * u, G - 1)));
    uint32_t* bk32 = reinterpret_cast<uint32_t*>(bk);
#pragma unroll
    for (int g = 0; g < G; g++) {
        float f;
        i8_fixed_scale(amax[g], f, invf[g]);
        uint32_t d[4][3];
#pragma unroll
        for (int j = 0; j < 4; j++) i8_digits(x[j][g] * f, d[j][0], d[j][1], d[j][2]);
        if (active) {
#pragma unroll
            for (int l = 0; l < 3; l++) bk32[i8_col<G>(g, l) * S::KRSW + quad] = i8_low_bytes(d[0][l], d[1][l], d[2][l], d[3][l]);
        }
    }
    if (B > 0) {
        if (active) {
#pragma unroll
            for (int j = 0; j < 4; j++) {
                if (slot[j] < B) inv[slot[j]] = (uint8_t) (4 * quad + j);  // the channel's low-plane position
            }
        }
        __syncwarp();
        // high-region words holding a boosted slot, per column (position p holds slot perm16(p)):
        // a lane keeps one word index w and takes every step-th column, so the 4 source positions
        // of its word are read once for all the columns
        const int words = 4 * ((B + 15) / 16);  // 4, 8, 12 or 16
        const int step = 32 / words;
        const int c0 = (int) (((float) lane + 0.5f) / (float) words);  // exact: lane / words
        const int w = lane - c0 * words;
        if (c0 < step) {
            int src[4];
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int sl = perm16(4 * w + e);
                src[e] = sl < B ? inv[sl] : -1;
            }
            for (int c = c0; c < 3 * G; c += step) {
                const int col = i8_col<G>(c / 3, c % 3);
                const uint8_t* low = bk + col * S::KRSW * 4;
                uint32_t word = 0u;
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    if (src[e] >= 0) word |= (uint32_t) low[src[e]] << (8 * e);
                }
                bk32[col * S::KRSW + D / 4 + w] = word;
            }
        }
    }
#pragma unroll
    for (int u = 0; u < S::HPT; u++) {  // selects, not a run-time index into registers
        const int mine = min(tig + 4 * u, G - 1);
        invf_mine[u] = invf[0];
#pragma unroll
        for (int g = 1; g < G; g++) {
            if (g == mine) invf_mine[u] = invf[g];
        }
    }
}

// One k-tile of the key product: rows points at its 32 k-rows (32 bytes each), bcol at its
// first B word.
template <int D, int G, bool HIGH>
__device__ __forceinline__ void i8_key_ktile(const uint8_t* rows, const uint32_t* bcol, int gid, int tig,
                                             int (&acc)[8][I8Shape<D, G>::NT][4]) {
    using S = I8Shape<D, G>;
    uint32_t w[8], v[8];
#pragma unroll
    for (int j = 0; j < 8; j++) w[j] = *reinterpret_cast<const uint32_t*>(rows + 32 * (tig + 4 * j) + 4 * gid);
    i8_transpose4(w[0], w[1], w[2], w[3], v[0], v[1], v[2], v[3]);
    i8_transpose4(w[4], w[5], w[6], w[7], v[4], v[5], v[6], v[7]);
    uint32_t b0[S::NT], b1[S::NT];
#pragma unroll
    for (int nt = 0; nt < S::NT; nt++) {
        b0[nt] = bcol[(8 * nt + gid) * S::KRSW + tig];
        b1[nt] = bcol[(8 * nt + gid) * S::KRSW + 4 + tig];
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
            const uint32_t a0 = i8_codes<HIGH>(v[i], 2 * e), a1 = i8_codes<HIGH>(v[i], 2 * e + 1);
            const uint32_t a2 = i8_codes<HIGH>(v[4 + i], 2 * e), a3 = i8_codes<HIGH>(v[4 + i], 2 * e + 1);
#pragma unroll
            for (int nt = 0; nt < S::NT; nt++) imma(acc[2 * i + e][nt], a0, a1, a2, a3, b0[nt], b1[nt]);
        }
}

// Scores (log2 units) of the lane's 16 tokens 16 gid + k for its head(s), from a packed key page.
template <int D, int G>
__device__ __forceinline__ void i8_key_scores(const uint8_t* kst, const uint8_t* bk, int B, int gid, int tig,
                                              const float (&invf)[I8Shape<D, G>::HPT],
                                              const float (&qm)[I8Shape<D, G>::HPT], float scale_log2,
                                              float (&sc)[I8Shape<D, G>::HPT][16]) {
    using S = I8Shape<D, G>;
    int acc[8][S::NT][4];
#pragma unroll
    for (int mt = 0; mt < 8; mt++)
#pragma unroll
        for (int nt = 0; nt < S::NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[mt][nt][e] = 0;
    const uint32_t* bk32 = reinterpret_cast<const uint32_t*>(bk);
#pragma unroll 1
    for (int kt = 0; kt < S::KT_LOW; kt++) i8_key_ktile<D, G, false>(kst + 1024 * kt, bk32 + 8 * kt, gid, tig, acc);
    const int nbt = (B + 31) / 32;
#pragma unroll 1
    for (int kb = 0; kb < nbt; kb++)
        i8_key_ktile<D, G, true>(kst + 32 * D + 1024 * kb, bk32 + 8 * (S::KT_LOW + kb), gid, tig, acc);
#pragma unroll
    for (int u = 0; u < S::HPT; u++) {
        const float w = invf[u] * scale_log2, m = qm[u] * scale_log2;
#pragma unroll
        for (int mt = 0; mt < 8; mt++)
#pragma unroll
            for (int h = 0; h < 2; h++) sc[u][2 * mt + h] = __fmaf_rn(i8_value<G, S::NT>(acc[mt], u, h), w * i8_row_inv(mt, h), m);
    }
}

// ---- value product over a packed value page --------------------------------------------------

// B operand of the value product (p_t s_t in digits, per head) and the running sum of p * min.
template <int D, int G>
__device__ __forceinline__ void i8_value_operand(const uint8_t* vst, uint8_t* bv, const float (&p)[I8Shape<D, G>::HPT][16],
                                                 const float (&alpha)[I8Shape<D, G>::HPT], int gid, int tig,
                                                 float (&invf)[I8Shape<D, G>::HPT], float (&pm_run)[I8Shape<D, G>::HPT]) {
    using S = I8Shape<D, G>;
    const uint4* meta = reinterpret_cast<const uint4*>(vst + 32 * D + 64 * gid);  // (scale, min) of tokens 16 gid + k
    float vs[16], vmn[16];
#pragma unroll
    for (int c = 0; c < 4; c++) {
        const uint4 m4 = meta[c];
        const uint32_t words[4] = {m4.x, m4.y, m4.z, m4.w};
#pragma unroll
        for (int e = 0; e < 4; e++) {
            vs[4 * c + e] = fp16_bits_to_float(words[e] & 0xffffu);
            vmn[4 * c + e] = fp16_bits_to_float(words[e] >> 16);
        }
    }
    uint32_t* bv32 = reinterpret_cast<uint32_t*>(bv);
#pragma unroll
    for (int u = 0; u < S::HPT; u++) {
        const int g = tig + 4 * u;
        float y[16], amax = 0.f, pmin = 0.f;
#pragma unroll
        for (int k = 0; k < 16; k++) {
            y[k] = p[u][k] * vs[k];
            amax = fmaxf(amax, fabsf(y[k]));
            pmin = __fmaf_rn(p[u][k], vmn[k], pmin);
        }
        amax = i8_head_max(amax);
        float f;
        i8_fixed_scale(amax, f, invf[u]);
        pm_run[u] = __fmaf_rn(pm_run[u], alpha[u], pmin);
#pragma unroll
        for (int s = 0; s < 4; s++) {  // word of positions 16 gid + 4 s + i = tokens 16 gid + s + 4 i
            uint32_t d[4][3];
#pragma unroll
            for (int i = 0; i < 4; i++) i8_digits(y[s + 4 * i] * f, d[i][0], d[i][1], d[i][2]);
#pragma unroll
            for (int l = 0; l < 3; l++) bv32[i8_col<G>(g, l) * S::VRSW + 4 * gid + s] = i8_low_bytes(d[0][l], d[1][l], d[2][l], d[3][l]);
        }
    }
}

// out = out * alpha + this page's sum_t (p_t s_t) c_td for the lane's channels.
template <int D, int G>
__device__ __forceinline__ void i8_value_accumulate(const uint8_t* vst, const uint8_t* bv, int gid, int tig,
                                                    const float (&alpha)[I8Shape<D, G>::HPT],
                                                    const float (&invf)[I8Shape<D, G>::HPT],
                                                    float (&out)[I8Shape<D, G>::HPT][I8Shape<D, G>::CPT]) {
    using S = I8Shape<D, G>;
    int acc[S::MT_V][S::NT][4];
#pragma unroll
    for (int mt = 0; mt < S::MT_V; mt++)
#pragma unroll
        for (int nt = 0; nt < S::NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[mt][nt][e] = 0;
    const uint32_t* bv32 = reinterpret_cast<const uint32_t*>(bv);
#pragma unroll 1
    for (int kt = 0; kt < ATTN_P / 32; kt++) {
        const uint8_t* rows = vst + (D / 4) * 32 * kt;  // token rows of D/4 bytes
        uint32_t v[8];
        if constexpr (D == 128) {
            uint32_t w[8];
#pragma unroll
            for (int j = 0; j < 8; j++) w[j] = *reinterpret_cast<const uint32_t*>(rows + 32 * (tig + 4 * j) + 4 * gid);
            i8_transpose4(w[0], w[1], w[2], w[3], v[0], v[1], v[2], v[3]);
            i8_transpose4(w[4], w[5], w[6], w[7], v[4], v[5], v[6], v[7]);
        } else {
            uint32_t w[8];
#pragma unroll
            for (int j = 0; j < 8; j++) w[j] = *reinterpret_cast<const unsigned short*>(rows + 16 * (tig + 4 * j) + 2 * gid);
            i8_transpose2(w[0], w[1], w[2], w[3], v[0], v[1]);
            i8_transpose2(w[4], w[5], w[6], w[7], v[4], v[5]);
            v[2] = v[3] = v[6] = v[7] = 0u;
        }
        uint32_t b0[S::NT], b1[S::NT];
#pragma unroll
        for (int nt = 0; nt < S::NT; nt++) {
            b0[nt] = bv32[(8 * nt + gid) * S::VRSW + 8 * kt + tig];
            b1[nt] = bv32[(8 * nt + gid) * S::VRSW + 8 * kt + 4 + tig];
        }
#pragma unroll
        for (int i = 0; i < S::CW; i++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const uint32_t a0 = i8_codes<false>(v[i], 2 * e), a1 = i8_codes<false>(v[i], 2 * e + 1);
                const uint32_t a2 = i8_codes<false>(v[4 + i], 2 * e), a3 = i8_codes<false>(v[4 + i], 2 * e + 1);
#pragma unroll
                for (int nt = 0; nt < S::NT; nt++) imma(acc[2 * i + e][nt], a0, a1, a2, a3, b0[nt], b1[nt]);
            }
    }
#pragma unroll
    for (int u = 0; u < S::HPT; u++)
#pragma unroll
        for (int mt = 0; mt < S::MT_V; mt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int k = 2 * mt + h;
                out[u][k] = __fmaf_rn(i8_value<G, S::NT>(acc[mt], u, h), invf[u] * i8_row_inv(mt, h), out[u][k] * alpha[u]);
            }
}

// ---- fp16 tiles (CUDA cores) -----------------------------------------------------------------

// Scores of a tile whose keys are fp16 rows: lane = token (32 at a time), all heads, through
// scratch into the packed layout (lane's 16 tokens 16 gid + k for its head(s)).
template <int D, int G>
__device__ __forceinline__ void i8_fp16_scores(const __half* __restrict__ fp_keys, const float* __restrict__ q,
                                               const SeqMeta& sm, const TileInfo& ti, int sink, int kv_heads, int h,
                                               size_t qrow0, float scale_log2, int lane, int gid, int tig, float* scratch,
                                               float (&sc)[I8Shape<D, G>::HPT][16]) {
    using S = I8Shape<D, G>;
#pragma unroll 1
    for (int r = 0; 32 * r < ti.count; r++) {
        const int t = 32 * r + lane;
        if (t < ti.count) {
            const uint4* k = reinterpret_cast<const uint4*>(fp_key_row<D>(fp_keys, sm, ti.start + t, sink, kv_heads, h));
            float acc[G];
#pragma unroll
            for (int g = 0; g < G; g++) acc[g] = 0.f;
#pragma unroll 4
            for (int i = 0; i < D / 8; i++) {
                const uint4 raw = k[i];
                const __half2* hv = reinterpret_cast<const __half2*>(&raw);
                float kf[8];
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const float2 f2 = __half22float2(hv[e]);
                    kf[2 * e] = f2.x;
                    kf[2 * e + 1] = f2.y;
                }
#pragma unroll
                for (int g = 0; g < G; g++) {
                    const float4* qq = reinterpret_cast<const float4*>(q + (qrow0 + g) * D + 8 * i);
                    const float4 qa = __ldg(qq), qb = __ldg(qq + 1);
                    acc[g] += qa.x * kf[0] + qa.y * kf[1] + qa.z * kf[2] + qa.w * kf[3] + qb.x * kf[4] + qb.y * kf[5]
                              + qb.z * kf[6] + qb.w * kf[7];
                }
            }
#pragma unroll
            for (int g = 0; g < G; g++) scratch[g * ATTN_P + t] = acc[g] * scale_log2;
        }
    }
    __syncwarp();
#pragma unroll
    for (int u = 0; u < S::HPT; u++) {
        const float4* row = reinterpret_cast<const float4*>(scratch + min(tig + 4 * u, G - 1) * ATTN_P + 16 * gid);
#pragma unroll
        for (int c = 0; c < 4; c++) {
            const float4 v4 = row[c];
            sc[u][4 * c] = v4.x;
            sc[u][4 * c + 1] = v4.y;
            sc[u][4 * c + 2] = v4.z;
            sc[u][4 * c + 3] = v4.w;
        }
    }
    __syncwarp();  // the scratch is free again
}

// out = out * alpha + sum_t p_t v_t over a tile whose values are fp16 rows: lane = channels
// (D/32 of them), all heads, then through scratch to the owners' layout.
template <int D, int G>
__device__ __forceinline__ void i8_fp16_values(const __half* __restrict__ fp_values, const SeqMeta& sm, const TileInfo& ti,
                                               int sink, int value_ring, int kv_heads, int h, int lane, int gid, int tig,
                                               const float (&p)[I8Shape<D, G>::HPT][16],
                                               const float (&alpha)[I8Shape<D, G>::HPT], float* scratch,
                                               float (&out)[I8Shape<D, G>::HPT][I8Shape<D, G>::CPT]) {
    using S = I8Shape<D, G>;
    constexpr int CL = D / 32;
#pragma unroll
    for (int u = 0; u < S::HPT; u++) {
        const int g = tig + 4 * u;
        if (g < G) {
#pragma unroll
            for (int k = 0; k < 16; k++) scratch[(16 * gid + k) * G + g] = p[u][k];
        }
    }
    __syncwarp();
    float acc[CL][G];
#pragma unroll
    for (int c = 0; c < CL; c++)
#pragma unroll
        for (int g = 0; g < G; g++) acc[c][g] = 0.f;
    const int row0 = fp_value_tile_row(ti, sink, value_ring);
#pragma unroll 8
    for (int t = 0; t < ti.count; t++) {
        const __half* vr = fp_value_ring_row<D>(fp_values, sm, row0 + t, sink, value_ring, kv_heads, h) + CL * lane;
        float v[CL];
        if constexpr (CL == 4) {
            const uint2 raw = *reinterpret_cast<const uint2*>(vr);
            const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&raw.x));
            const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&raw.y));
            v[0] = a.x;
            v[1] = a.y;
            v[2] = b.x;
            v[3] = b.y;
        } else {
            const float2 a = __half22float2(*reinterpret_cast<const __half2*>(vr));
            v[0] = a.x;
            v[1] = a.y;
        }
#pragma unroll
        for (int g = 0; g < G; g++) {
            const float pt = scratch[t * G + g];
#pragma unroll
            for (int c = 0; c < CL; c++) acc[c][g] = __fmaf_rn(pt, v[c], acc[c][g]);
        }
    }
    __syncwarp();  // every lane is done with p
#pragma unroll
    for (int g = 0; g < G; g++)
#pragma unroll
        for (int c = 0; c < CL; c++) scratch[g * D + CL * lane + c] = acc[c][g];
    __syncwarp();
#pragma unroll
    for (int u = 0; u < S::HPT; u++) {
        const int g = min(tig + 4 * u, G - 1);
#pragma unroll
        for (int k = 0; k < S::CPT; k++) out[u][k] = __fmaf_rn(out[u][k], alpha[u], scratch[g * D + S::CPT * gid + k]);
    }
    __syncwarp();
}

// ---- the kernel -------------------------------------------------------------------------------

// One thread (lane 0): expect the tile's key page (if packed) on the key stage's mbarrier and
// start its copy; the same for the value page. A tile whose rows are fp16 still arrives (with 0
// bytes), so each barrier completes one phase per tile.
template <int D>
__device__ __forceinline__ void i8_issue_keys(uint8_t* kst, uint64_t* bar, const TileInfo& ti, const SeqMeta& sm, int h,
                                              int kv_heads, int B, const uint8_t* key_pool, const int* key_table) {
    const uint32_t kbytes = i8_key_page_bytes(D, B);
    mbar_arrive_expect_tx(bar, ti.key_packed ? kbytes : 0u);
    if (ti.key_packed) {
        const int page = key_table[sm.key_table_offset + ti.body];
        bulk_copy(kst, key_pool + ((size_t) page * kv_heads + h) * kbytes, kbytes, bar);
    }
}

template <int D>
__device__ __forceinline__ void i8_issue_values(uint8_t* vst, uint64_t* bar, const TileInfo& ti, const SeqMeta& sm, int h,
                                                int kv_heads, const uint8_t* value_pool, const int* value_table) {
    const uint32_t vbytes = I8Shape<D, 1>::VSTAGE;
    mbar_arrive_expect_tx(bar, ti.value_packed ? vbytes : 0u);
    if (ti.value_packed) {
        const int page = value_table[sm.value_table_offset + ti.body];
        bulk_copy(vst, value_pool + ((size_t) page * kv_heads + h) * vbytes, vbytes, bar);
    }
}

template <int D, int G>
__device__ void attention_i8(const float* __restrict__ q, const uint8_t* __restrict__ key_pool,
                             const uint8_t* __restrict__ value_pool, const int* __restrict__ key_table,
                             const int* __restrict__ value_table, const SeqMeta* __restrict__ seqs,
                             const __half* __restrict__ fp_keys, const __half* __restrict__ fp_values,
                             float* __restrict__ part_acc, float* __restrict__ part_ml, int kv_heads, int sink,
                             int value_ring, int B, int tiles_per_split, int max_splits, float scale_log2,
                             uint8_t* smem, int split, int h, int b, int lane) {
    using S = I8Shape<D, G>;
    const SeqMeta sm = seqs[b];
    const int tiles = num_tiles(sm.length, sink);
    const int t_begin = split * tiles_per_split;
    if (t_begin >= tiles) return;
    const int t_end = min(tiles, t_begin + tiles_per_split);
    const int gid = lane >> 2, tig = lane & 3;
    uint8_t* kst = smem;
    uint8_t* vst = kst + i8_key_stage_bytes(D, B);
    uint8_t* bk = vst + S::VSTAGE;
    uint8_t* bv = bk + S::BK_BYTES;
    uint64_t* bar = reinterpret_cast<uint64_t*>(bv + S::BV_BYTES);
    const size_t qrow0 = ((size_t) b * kv_heads + h) * G;  // first query head of this kv head's group

    if (lane == 0) {
        mbar_init(&bar[0], 1);
        mbar_init(&bar[1], 1);
        fence_mbarrier_init();
        const TileInfo first = tile_info(t_begin, sm, sink);
        i8_issue_keys<D>(kst, &bar[0], first, sm, h, kv_heads, B, key_pool, key_table);
        i8_issue_values<D>(vst, &bar[1], first, sm, h, kv_heads, value_pool, value_table);
    }
    // every full-precision row this warp will read, pulled into L2 now
    for (int tile = t_begin; tile < t_end; tile++) {
        const TileInfo ti = tile_info(tile, sm, sink);
        if (ti.key_packed && ti.value_packed) continue;
        for (int t = lane; t < ti.count; t += 32) {
            if (!ti.key_packed) {
                const uint8_t* r = reinterpret_cast<const uint8_t*>(fp_key_row<D>(fp_keys, sm, ti.start + t, sink, kv_heads, h));
                for (int o = 0; o < D * 2; o += 128) prefetch_l2(r + o);
            }
            if (!ti.value_packed) {
                const uint8_t* r =
                    reinterpret_cast<const uint8_t*>(fp_value_row<D>(fp_values, sm, ti.start + t, sink, value_ring, kv_heads, h));
                for (int o = 0; o < D * 2; o += 128) prefetch_l2(r + o);
            }
        }
    }
    // the B operands start (and their unused columns and boosted positions stay) zero
    for (int i = lane; i < (S::BK_BYTES + S::BV_BYTES) / 16; i += 32) reinterpret_cast<uint4*>(bk)[i] = make_uint4(0, 0, 0, 0);
    float qreg[4][G];  // q of the channels whose B entries this lane builds
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int ch = perm16(4 * (lane % S::QUADS) + j);
#pragma unroll
        for (int g = 0; g < G; g++) qreg[j][g] = q[(qrow0 + g) * D + ch];
    }
    float m_run[S::HPT], l_run[S::HPT], pm_run[S::HPT], out[S::HPT][S::CPT];
#pragma unroll
    for (int u = 0; u < S::HPT; u++) {
        m_run[u] = __int_as_float(0xff800000);
        l_run[u] = 0.f;
        pm_run[u] = 0.f;
#pragma unroll
        for (int k = 0; k < S::CPT; k++) out[u][k] = 0.f;
    }
    __syncwarp();

#pragma unroll 1
    for (int tile = t_begin; tile < t_end; tile++) {
        const uint32_t parity = (tile - t_begin) & 1;
        const TileInfo ti = tile_info(tile, sm, sink);
        const bool more = tile + 1 < t_end;
        mbar_wait(&bar[0], parity);  // this tile's key page landed

        float sc[S::HPT][16];
        if (ti.key_packed) {
            float invf[S::HPT], qm[S::HPT];
            i8_key_operand<D, G>(kst, bk, qreg, B, lane, tig, bv, invf, qm);
            __syncwarp();
            i8_key_scores<D, G>(kst, bk, B, gid, tig, invf, qm, scale_log2, sc);
        } else {
            i8_fp16_scores<D, G>(fp_keys, q, sm, ti, sink, kv_heads, h, qrow0, scale_log2, lane, gid, tig,
                                 reinterpret_cast<float*>(bv), sc);
        }
        __syncwarp();  // every lane is done with the key stage: the next key page may land there
        if (lane == 0 && more) {
            fence_proxy_async();
            i8_issue_keys<D>(kst, &bar[0], tile_info(tile + 1, sm, sink), sm, h, kv_heads, B, key_pool, key_table);
        }

        // online softmax of the lane's 16 tokens, per head (m is uniform over the head's 8 lanes)
        float p[S::HPT][16], alpha[S::HPT];
#pragma unroll
        for (int u = 0; u < S::HPT; u++) {
            float tmax = __int_as_float(0xff800000);
#pragma unroll
            for (int k = 0; k < 16; k++) {
                if (16 * gid + k >= ti.count) sc[u][k] = __int_as_float(0xff800000);
                tmax = fmaxf(tmax, sc[u][k]);
            }
            const float m_new = fmaxf(m_run[u], i8_head_max(tmax));
            alpha[u] = exp2_approx(m_run[u] - m_new);
            float psum = 0.f;
#pragma unroll
            for (int k = 0; k < 16; k++) {
                p[u][k] = exp2_approx(sc[u][k] - m_new);
                psum += p[u][k];
            }
            m_run[u] = m_new;
            l_run[u] = l_run[u] * alpha[u] + psum;
        }

        mbar_wait(&bar[1], parity);  // and its value page
        if (ti.value_packed) {
            float invf[S::HPT];
            i8_value_operand<D, G>(vst, bv, p, alpha, gid, tig, invf, pm_run);
            __syncwarp();
            i8_value_accumulate<D, G>(vst, bv, gid, tig, alpha, invf, out);
        } else {
#pragma unroll
            for (int u = 0; u < S::HPT; u++) pm_run[u] *= alpha[u];
            i8_fp16_values<D, G>(fp_values, sm, ti, sink, value_ring, kv_heads, h, lane, gid, tig, p, alpha,
                                 reinterpret_cast<float*>(bv), out);
        }
        __syncwarp();  // every lane is done with the value stage and the B operands
        if (lane == 0 && more) {
            fence_proxy_async();
            i8_issue_values<D>(vst, &bar[1], tile_info(tile + 1, sm, sink), sm, h, kv_heads, value_pool, value_table);
        }
    }

    // epilogue: this split's (max, sum) and unnormalized sums (+ sum p * min) per head
#pragma unroll
    for (int u = 0; u < S::HPT; u++) {
        const float l = i8_head_sum(l_run[u]), pm = i8_head_sum(pm_run[u]);
        const int g = tig + 4 * u;
        if (g < G) {
            const size_t base = (qrow0 + g) * max_splits + split;
            float* dst = part_acc + base * D + S::CPT * gid;
#pragma unroll
            for (int k = 0; k < S::CPT; k += 4)
                *reinterpret_cast<float4*>(dst + k) = make_float4(out[u][k] + pm, out[u][k + 1] + pm, out[u][k + 2] + pm,
                                                                  out[u][k + 3] + pm);
            if (gid == 0) {
                part_ml[base * 2] = m_run[u];
                part_ml[base * 2 + 1] = l;
            }
        }
    }
}

}  // namespace kitty

