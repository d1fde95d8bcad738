// Glue between the CUDA backend's forward step and the Kitty page kernels (kitty_pages.cu):
// moving a step's new K/V rows into the per-sequence fp16 regions, making the fp16 view a
// prompt chunk's full-precision attention reads, and handing decode rows to/from the split-KV
// kernel. Layouts: see kitty_pages.cuh (pools, rings) and KittyStepPlan.java (piece info).
//
// A piece (one sequence's rows in a step) is described by 16 int32 (KittyStepPlan.INFO_INTS):
//   0 L0 (tokens before the step)  1 n (tokens of the step)  2 kp0  3 vp0 (pages held before)
//   4 kp1  5 vp1 (pages after this step's flush)  6 b (first token held in the staging rows)
//   7 stage_row0 (its first staging row)  8 slot (fp16 tail slot)  9 key_tab_off
//   10 value_tab_off (its page ids in the history tables)  11 chunk (1: prefill/chunk, staged;
//   0: decode, written straight into the rings)  12 scratch_pt (page-table index of token 0 in
//   the fp16 scratch pages)  13 decode index (row of the decode batch, or -1)  14, 15 reserved
#include "common.cuh"

namespace {
constexpr int INFO = 16;

__device__ __forceinline__ int key_row(int t, int S, int P) { return t < S ? t : S + (t - S) % P; }
__device__ __forceinline__ int value_row(int t, int S, int R) { return t < S ? t : S + (t - S) % R; }

__device__ __forceinline__ float fp16_at(const uint8_t* p) {
    return __half2float(__ushort_as_half((unsigned short) (p[0] | (p[1] << 8))));
}

// Java's AsymmetricQuantizer.dequantize: q * scale + min in fp32, two roundings (no FMA).
__device__ __forceinline__ float dequant(int code, float scale, float mn) {
    return __fadd_rn(__fmul_rn((float) code, scale), mn);
}

// Key (t within the page, channel d) of a KeyPageLayout page of one head.
__device__ __forceinline__ float key_from_page(const uint8_t* pg, int t, int d, int P, int D, int B) {
    const int row = P / 4;
    int code = (pg[d * row + t / 4] >> (2 * (t % 4))) & 3;
    if (B > 0) {
        int slot = pg[(D + B) * row + d];
        if (slot < B) code |= ((pg[D * row + slot * row + t / 4] >> (2 * (t % 4))) & 3) << 2;
    }
    const uint8_t* meta = pg + (D + B) * row + (B > 0 ? D : 0) + 4 * d;
    return dequant(code, fp16_at(meta), fp16_at(meta + 2));
}

// Value (token t within the page, channel d) of a ValuePageLayout page of one head.
__device__ __forceinline__ float value_from_page(const uint8_t* pg, int t, int d, int P, int D) {
    int code = (pg[t * (D / 4) + d / 4] >> (2 * (d % 4))) & 3;
    const uint8_t* meta = pg + P * (D / 4) + 4 * t;
    return dequant(code, fp16_at(meta), fp16_at(meta + 2));
}

__device__ __forceinline__ long scratch_at(const int* scratch_pages, int pt, int t, int h, int kv_heads, int D) {
    int page = scratch_pages[pt + (t >> 4)];
    return (((long) page * kv_heads + h) * 16 + (t & 15)) * D;
}
}  // namespace

// History of the prompt-chunk pieces (tokens 0..L0-1 of a sequence that already holds some):
// every token into the fp16 scratch pages (what the prefill attention reads: full-precision
// tokens as held, paged tokens dequantized exactly as QuantizedKvStream's view holds them,
// then rounded to fp16), and tokens >= b into the staging rows (the sources of the pages this
// step's flush makes). grid (history rows, kv heads), block 128.
KS_EXTERN void kitty_gather_history(const int* __restrict__ info, const int* __restrict__ hist_piece,
                                    const int* __restrict__ hist_tok, const int* __restrict__ key_tab,
                                    const int* __restrict__ value_tab, const uint8_t* __restrict__ key_pool,
                                    const uint8_t* __restrict__ value_pool, int key_page_bytes, int value_page_bytes,
                                    int B, const __half* __restrict__ fp_keys, const __half* __restrict__ fp_values,
                                    int S, int P, int R, int kv_heads, int D, const int* __restrict__ scratch_pages,
                                    __half* __restrict__ scratch_k, __half* __restrict__ scratch_v,
                                    __half* __restrict__ stage_k, __half* __restrict__ stage_v) {
    const int i = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
    if (d >= D) return;
    const int t = hist_tok[i];
    const int* in = info + INFO * hist_piece[i];
    const int kp0 = in[2], vp0 = in[3], b = in[6], slot = in[8];
    float k, v;
    if (t < S || t >= S + kp0 * P) {
        k = __half2float(fp_keys[(((long) slot * (S + P) + key_row(t, S, P)) * kv_heads + h) * D + d]);
    } else {
        int page = key_tab[in[9] + (t - S) / P];
        k = key_from_page(key_pool + ((long) page * kv_heads + h) * key_page_bytes, (t - S) % P, d, P, D, B);
    }
    if (t < S || t >= S + vp0 * P) {
        v = __half2float(fp_values[(((long) slot * (S + R) + value_row(t, S, R)) * kv_heads + h) * D + d]);
    } else {
        int page = value_tab[in[10] + (t - S) / P];
        v = value_from_page(value_pool + ((long) page * kv_heads + h) * value_page_bytes, (t - S) % P, d, P, D);
    }
    long at = scratch_at(scratch_pages, in[12], t, h, kv_heads, D) + d;
    scratch_k[at] = __float2half_rn(k);
    scratch_v[at] = __float2half_rn(v);
    if (t >= b) {
        long row = in[7] + (t - b);
        stage_k[(row * kv_heads + h) * D + d] = __float2half_rn(k);
        stage_v[(row * kv_heads + h) * D + d] = __float2half_rn(v);
    }
}

// The step's new rows (written by qk_rope_kv_write into the scratch pages): a chunk's rows go
// to its staging rows, a decode row straight into its sequence's rings (sink row, key ring,
// value ring), where the split-KV kernel reads it; a decode row's query heads of this kv
// head's group are gathered into q_out[decode index] ([batch][kv_heads * GP][D], the kernel's
// q): a group of G heads is padded with zero queries to GP, the nearest group size the
// attention kernel is compiled for (the demo model's G = 3 runs as 4).
// grid (step rows, kv heads), block 128.
KS_EXTERN void kitty_new_rows(const int* __restrict__ info, const int* __restrict__ row_seq,
                              const int* __restrict__ positions, const int* __restrict__ scratch_pages,
                              const __half* __restrict__ scratch_k, const __half* __restrict__ scratch_v, int S, int P,
                              int R, int kv_heads, int D, __half* __restrict__ fp_keys, __half* __restrict__ fp_values,
                              __half* __restrict__ stage_k, __half* __restrict__ stage_v, const float* __restrict__ qkv,
                              int qkv_ld, int heads, int GP, float* __restrict__ q_out) {
    const int r = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
    if (d >= D) return;
    const int* in = info + INFO * row_seq[r];
    const int t = positions[r];
    long at = scratch_at(scratch_pages, in[12], t, h, kv_heads, D) + d;
    __half k = scratch_k[at], v = scratch_v[at];
    if (in[11]) {
        long row = in[7] + (t - in[6]);
        stage_k[(row * kv_heads + h) * D + d] = k;
        stage_v[(row * kv_heads + h) * D + d] = v;
        return;
    }
    const int slot = in[8];
    fp_keys[(((long) slot * (S + P) + key_row(t, S, P)) * kv_heads + h) * D + d] = k;
    fp_values[(((long) slot * (S + R) + value_row(t, S, R)) * kv_heads + h) * D + d] = v;
    const int G = heads / kv_heads, bi = in[13];
    for (int g = 0; g < GP; g++) {
        q_out[(((long) bi * kv_heads + h) * GP + g) * D + d] = g < G ? qkv[(long) r * qkv_ld + (h * G + g) * D + d] : 0.f;
    }
}

// After a chunk's attention and flush: its staging rows that stay full precision go to the
// rings (sink rows below S; keys from page kp1 on; values from page vp1 on). Staging row i
// belongs to piece stage_piece[i], token stage_tok[i]. grid (staging rows, kv heads), block 128.
KS_EXTERN void kitty_stage_to_rings(const int* __restrict__ info, const int* __restrict__ stage_piece,
                                    const int* __restrict__ stage_tok, const __half* __restrict__ stage_k,
                                    const __half* __restrict__ stage_v, int S, int P, int R, int kv_heads, int D,
                                    __half* __restrict__ fp_keys, __half* __restrict__ fp_values) {
    const int i = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
    if (d >= D) return;
    const int* in = info + INFO * stage_piece[i];
    const int t = stage_tok[i], slot = in[8];
    const long src = ((long) i * kv_heads + h) * D + d;
    if (t < S || t >= S + in[4] * P) {
        fp_keys[(((long) slot * (S + P) + key_row(t, S, P)) * kv_heads + h) * D + d] = stage_k[src];
    }
    if (t < S || t >= S + in[5] * P) {
        fp_values[(((long) slot * (S + R) + value_row(t, S, R)) * kv_heads + h) * D + d] = stage_v[src];
    }
}

// Decode rows' attention output ([batch][kv_heads * GP][D] fp32, the combine kernel's out; the
// padded heads dropped) into the o_proj operand rows [heads * D] (bf16 hi, and lo in split
// precision). grid (decode rows), block 256.
KS_EXTERN void kitty_rows_out(const float* __restrict__ out, const int* __restrict__ rows, int heads, int kv_heads,
                              int D, int GP, __nv_bfloat16* __restrict__ hi, __nv_bfloat16* __restrict__ lo) {
    const int b = blockIdx.x, G = heads / kv_heads, width = heads * D;
    const long r = rows[b];
    for (int i = threadIdx.x; i < width; i += blockDim.x) {
        const int hq = i / D, d = i % D;
        const long src = (((long) b * kv_heads + hq / G) * GP + hq % G) * D + d;
        store_hi_lo(out[src], hi, lo, r * width + i);
    }
}
