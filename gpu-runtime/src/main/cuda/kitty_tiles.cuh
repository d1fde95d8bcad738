// How the decode attention kernels walk a sequence (kitty_attention.cu): tiles of P = 128
// tokens, first ceil(min(S, len) / P) sink tiles, then body tile i = tokens S + iP .. that
// reads key page i when i < keyPages (else the fp16 key buffer) and value page i when
// i < valuePages (else the fp16 value ring); and where a token's fp16 rows are (kitty_pages.cuh).
#pragma once
#include "kitty_pages.cuh"

namespace kitty {

__device__ __forceinline__ int sink_tiles(int length, int sink) { return (min(sink, length) + ATTN_P - 1) / ATTN_P; }

__device__ __forceinline__ int num_tiles(int length, int sink) {
    return sink_tiles(length, sink) + (length > sink ? (length - sink + ATTN_P - 1) / ATTN_P : 0);
}

struct TileInfo {
    int start, count;
    bool key_packed, value_packed, sink;
    int body;  // body tile index (page index) or -1
};

__device__ __forceinline__ TileInfo tile_info(int tile, const SeqMeta& sm, int sink) {
    TileInfo ti;
    int st = sink_tiles(sm.length, sink);
    if (tile < st) {
        ti.start = tile * ATTN_P;
        ti.count = min(ATTN_P, min(sink, sm.length) - ti.start);
        ti.key_packed = ti.value_packed = false;
        ti.sink = true;
        ti.body = -1;
    } else {
        int j = tile - st;
        ti.start = sink + j * ATTN_P;
        ti.count = min(ATTN_P, sm.length - ti.start);
        ti.key_packed = j < sm.key_pages;
        ti.value_packed = j < sm.value_pages;
        ti.sink = false;
        ti.body = j;
    }
    return ti;
}

template <int D>
__device__ __forceinline__ const __half* fp_key_row(const __half* fp_keys, const SeqMeta& sm, int pos, int sink,
                                                    int kv_heads, int h) {
    const int row = pos < sink ? pos : sink + (pos - sink) % ATTN_P;
    return fp_keys + (((size_t) sm.fp_slot * (sink + ATTN_P) + row) * kv_heads + h) * D;
}

// Row `row` of a sequence's fp16 values (sink rows, then the value ring).
template <int D>
__device__ __forceinline__ const __half* fp_value_ring_row(const __half* fp_values, const SeqMeta& sm, int row, int sink,
                                                           int value_ring, int kv_heads, int h) {
    return fp_values + (((size_t) sm.fp_slot * (sink + value_ring) + row) * kv_heads + h) * D;
}

template <int D>
__device__ __forceinline__ const __half* fp_value_row(const __half* fp_values, const SeqMeta& sm, int pos, int sink,
                                                      int value_ring, int kv_heads, int h) {
    const int row = pos < sink ? pos : sink + (pos - sink) % value_ring;
    return fp_value_ring_row<D>(fp_values, sm, row, sink, value_ring, kv_heads, h);
}

// The row of a tile's first token in its fp16 values. The tile's rows are consecutive from
// there: a sink tile's are rows start.., and a body tile starts at a multiple of P in the value
// ring (itself a multiple of P rows), so its <= P rows never wrap and token t is this row plus t,
// with no division per row (the modulo per row drew a tenth of the i8 kernel's stall samples).
__device__ __forceinline__ int fp_value_tile_row(const TileInfo& ti, int sink, int value_ring) {
    return ti.sink ? ti.start : sink + (ti.start - sink) % value_ring;
}

// Within each group of 16, position perm16(x) holds x (the low two 2-bit fields swapped): the
// k order of the tensor-core kernels, so that the 4 lanes of a quad read 4 adjacent rows.
__device__ __forceinline__ int perm16(int x) { return (x & ~15) | ((x & 3) << 2) | ((x >> 2) & 3); }

}  // namespace kitty
