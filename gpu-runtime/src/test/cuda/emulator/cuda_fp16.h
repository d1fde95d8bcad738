// Host stand-in for the parts of CUDA's cuda_fp16.h that the Kitty attention code uses.
#pragma once
#include <cstdint>
#include <cstring>

struct __half {
    uint16_t x;
};
struct __half2 {
    __half x, y;
};
struct float2 {
    float x, y;
};

inline float __half2float(__half h) {
    const uint32_t sign = (uint32_t) (h.x & 0x8000u) << 16;
    int exp = (h.x >> 10) & 0x1f;
    uint32_t mant = h.x & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalize
            exp = 1;
            while ((mant & 0x400u) == 0) {
                mant <<= 1;
                exp--;
            }
            mant &= 0x3ffu;
            bits = sign | (uint32_t) (exp - 15 + 127) << 23 | (mant << 13);
        }
    } else {
        bits = sign | (uint32_t) (exp - 15 + 127) << 23 | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
inline __half __ushort_as_half(unsigned short v) { return __half{v}; }
inline float2 __half22float2(__half2 h) { return float2{__half2float(h.x), __half2float(h.y)}; }
