// Host stand-ins for the CUDA qualifiers and intrinsics that kitty_attention_i8.cuh uses
// (force-included before it). Collectives go through the warp emulator (warp.h).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cuda_fp16.h"
#include "warp.h"

#define __device__
#define __host__
#define __global__
#define __forceinline__ inline
#define __noinline__
#define __align__(n) alignas(n)

struct uint2 {
    uint32_t x, y;
};
struct uint4 {
    uint32_t x, y, z, w;
};
struct float4 {
    float x, y, z, w;
};
inline uint4 make_uint4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return uint4{a, b, c, d}; }
inline float4 make_float4(float a, float b, float c, float d) { return float4{a, b, c, d}; }
template <class T>
inline T __ldg(const T* p) {
    return *p;
}
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

inline uint32_t __float_as_uint(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float __uint_as_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline int __float_as_int(float f) { return (int) __float_as_uint(f); }
inline float __int_as_float(int i) { return __uint_as_float((uint32_t) i); }
inline float __fmaf_rn(float a, float b, float c) { return std::fmaf(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }

// PTX prmt (default mode): byte i of the result is byte s[4i..4i+2] of {b, a}.
inline uint32_t __byte_perm(uint32_t a, uint32_t b, uint32_t s) {
    const uint64_t x = (uint64_t) a | ((uint64_t) b << 32);
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) r |= (uint32_t) ((x >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
    return r;
}

inline float __shfl_xor_sync(unsigned mask, float v, int lanemask) {
    if (mask != 0xffffffffu) emu::fail("shuffle with a partial mask");
    const uint32_t w = __float_as_uint(v);
    auto slots = emu::arrive("shfl", lanemask, &w, 1);
    return __uint_as_float(slots[emu::lane_id() ^ lanemask][0]);
}
inline float __shfl_sync(unsigned mask, float v, int src) {
    if (mask != 0xffffffffu) emu::fail("shuffle with a partial mask");
    const uint32_t w = __float_as_uint(v);
    auto slots = emu::arrive("shfl_idx", 0, &w, 1);
    return __uint_as_float(slots[src & 31][0]);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
    if (mask != 0xffffffffu) emu::fail("__syncwarp with a partial mask");
    emu::arrive("syncwarp", -1, nullptr, 0);
}
[[noreturn]] inline void __trap() { emu::fail("__trap"); }
