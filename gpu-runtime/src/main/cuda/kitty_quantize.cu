// Kitty / KIVI page quantizers on the GPU:
//   kitty_quantize_keys_{f32,f16}    full key buffers -> packed key pages (KeyPageLayout bytes)
//   kitty_quantize_values_{f32,f16}  full value buffers -> packed value pages (ValuePageLayout bytes)
// The attention that reads these pages is in kitty_attention.cu; the memory contract (what
// the engine allocates) is in kitty_pages.cuh and mirrored by the Java classes of
// kittyspark.runtime.backend.cuda.kitty.
//
// Both kernels are byte-exact with the Java reference (kvquant): every rounding step is the
// Java one (fp32 ops with explicit _rn intrinsics so nothing is contracted into an FMA, Java's
// Math.min/max semantics for -0 and NaN, Java's own fp16 rounding, floor + saturating int
// conversion, channel ranking by Float.compare with ties to the lower index).
//
// Build: gpu-runtime/src/main/cuda/build-ptx.sh (no --use_fast_math, no -ftz: the numerics
// must stay IEEE).
#include "common.cuh"
#include "kitty_pages.cuh"

namespace kitty {

// ---------------------------------------------------------------------------------------------
// Java-exact scalar numerics
// ---------------------------------------------------------------------------------------------

// Math.min(float, float): NaN wins, -0 is below +0. Order-independent, so it may be reduced
// in any order (the Java loop is sequential).
__device__ __forceinline__ float java_min(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0.f && b == 0.f) return __int_as_float(__float_as_int(a) | __float_as_int(b));
    return a <= b ? a : b;
}

// Math.max(float, float): NaN wins, +0 is above -0.
__device__ __forceinline__ float java_max(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0.f && b == 0.f) return __int_as_float(__float_as_int(a) & __float_as_int(b));
    return a >= b ? a : b;
}

// Fp16.fromFloat, bit for bit (round to nearest even, Java's NaN payload rule).
__device__ __forceinline__ uint32_t java_fp16_bits(float f) {
    uint32_t bits = __float_as_uint(f);
    uint32_t sign = (bits >> 16) & 0x8000u;
    int exp = (bits >> 23) & 0xff;
    uint32_t mant = bits & 0x7fffffu;
    if (exp == 0xff) return sign | 0x7c00u | (mant != 0 ? (0x200u | (mant >> 13)) : 0u);
    int e = exp - 127 + 15;
    if (e >= 0x1f) return sign | 0x7c00u;
    if (e <= 0) {
        if (e < -10) return sign;
        uint32_t m = mant | 0x800000u;
        int shift = 14 - e;
        uint32_t half = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u))) half++;
        return sign | half;
    }
    uint32_t half = ((uint32_t) e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++;
    return (sign | half) & 0xffffu;
}

// AsymmetricQuantizer.params + quantize: scale = max((mx - mn) / levels, 1e-6) in fp32, both
// rounded to fp16; q = clamp(floor((x - mn) / scale + 0.5), 0, levels).
struct QuantParams {
    uint32_t scale_bits, min_bits;
    float scale, min;
};

__device__ __forceinline__ QuantParams java_params(float mn, float mx, int levels) {
    float scale = java_max(__fdiv_rn(__fsub_rn(mx, mn), (float) levels), 1e-6f);
    QuantParams p;
    p.scale_bits = java_fp16_bits(scale);
    p.min_bits = java_fp16_bits(mn);
    p.scale = fp16_bits_to_float(p.scale_bits);
    p.min = fp16_bits_to_float(p.min_bits);
    return p;
}

__device__ __forceinline__ int java_quantize(float x, float scale, float mn, int levels) {
    // floorf + cvt.rzi: NaN -> 0 and saturation, like Java's (int) Math.floor(...)
    int q = __float2int_rz(floorf(__fadd_rn(__fdiv_rn(__fsub_rn(x, mn), scale), 0.5f)));
    return max(0, min(levels, q));
}

// Float.compare order key of a non-negative score: NaN (any payload) is the largest.
__device__ __forceinline__ uint32_t score_key(float s) {
    return s != s ? 0x7fc00000u : __float_as_uint(s);
}

template <typename T>
__device__ __forceinline__ float load_f(const T* p);
template <>
__device__ __forceinline__ float load_f<float>(const float* p) { return *p; }
template <>
__device__ __forceinline__ float load_f<__half>(const __half* p) { return __half2float(*p); }

__device__ __forceinline__ void copy_out(uint8_t* __restrict__ dst, const uint8_t* src, int bytes) {
    if ((((uintptr_t) dst) & 3) == 0 && (bytes & 3) == 0) {
        for (int i = threadIdx.x; i < bytes / 4; i += blockDim.x)
            reinterpret_cast<uint32_t*>(dst)[i] = reinterpret_cast<const uint32_t*>(src)[i];
    } else {
        for (int i = threadIdx.x; i < bytes; i += blockDim.x) dst[i] = src[i];
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Key pages. Block = one (job, kv head); thread d owns channel d (blockDim >= D).
//    Scoring runs each channel's tokens in token order in one thread: the fp32 sum is the
//    Java one. The page is built in shared memory and written out coalesced.
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void quantize_keys(const PageJob* __restrict__ jobs, int P, int D, int B, int token_stride,
                              int head_stride) {
    extern __shared__ __align__(16) uint8_t smem[];
    const int row = P / 4;
    const int high_off = D * row;
    const int index_off = high_off + B * row;
    const int meta_off = index_off + (B > 0 ? D : 0);
    const int page_bytes = meta_off + D * 4;
    uint8_t* page = smem;
    float* score = reinterpret_cast<float*>(smem + ((page_bytes + 15) & ~15));

    const PageJob job = jobs[blockIdx.x];
    const int h = blockIdx.y;
    const T* src = reinterpret_cast<const T*>(job.src) + (size_t) h * head_stride;
    uint8_t* dst = reinterpret_cast<uint8_t*>(job.dst) + (size_t) h * page_bytes;
    const int d = threadIdx.x;

    float mn = __int_as_float(0x7f800000), mx = __int_as_float(0xff800000), sum = 0.f;
    if (d < D) {
        for (int t = 0; t < P; t++) {
            float x = load_f<T>(src + (size_t) t * token_stride + d);
            sum = __fadd_rn(sum, fabsf(x));
            mn = java_min(mn, x);
            mx = java_max(mx, x);
        }
        score[d] = __fdiv_rn(sum, (float) P);
    }
    __syncthreads();
    int slot = B;
    if (d < D && B > 0) {
        uint32_t mine = score_key(score[d]);
        int rank = 0;
        for (int e = 0; e < D; e++) {
            uint32_t other = score_key(score[e]);
            rank += (other > mine || (other == mine && e < d)) ? 1 : 0;
        }
        slot = rank < B ? rank : B;
    }
    if (d < D) {
        const bool boost = slot < B;
        const int levels = boost ? 15 : 3;
        QuantParams p = java_params(mn, mx, levels);
        for (int t0 = 0; t0 < P; t0 += 4) {
            uint32_t lo = 0, hi = 0;
            for (int s = 0; s < 4; s++) {
                float x = load_f<T>(src + (size_t) (t0 + s) * token_stride + d);
                int q = java_quantize(x, p.scale, p.min, levels);
                lo |= (uint32_t) (q & 3) << (2 * s);
                hi |= (uint32_t) ((q >> 2) & 3) << (2 * s);
            }
            page[d * row + t0 / 4] = (uint8_t) lo;
            if (boost) page[high_off + slot * row + t0 / 4] = (uint8_t) hi;
        }
        if (B > 0) page[index_off + d] = (uint8_t) slot;
        uint8_t* m = page + meta_off + 4 * d;
        m[0] = (uint8_t) p.scale_bits;
        m[1] = (uint8_t) (p.scale_bits >> 8);
        m[2] = (uint8_t) p.min_bits;
        m[3] = (uint8_t) (p.min_bits >> 8);
    }
    __syncthreads();
    copy_out(dst, page, page_bytes);
}

// ---------------------------------------------------------------------------------------------
// 2. Value pages. Block = one (job, kv head); a warp per token, lane l owns channels 4l..4l+3
//    (+128k): one output byte per lane. min/max reduce in any order (Java semantics are
//    order-free), the rest is per element.
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void quantize_values(const PageJob* __restrict__ jobs, int P, int D, int token_stride, int head_stride) {
    extern __shared__ __align__(16) uint8_t smem[];
    const int row = D / 4;
    const int meta_off = P * row;
    const int page_bytes = meta_off + P * 4;
    const PageJob job = jobs[blockIdx.x];
    const int h = blockIdx.y;
    const T* src = reinterpret_cast<const T*>(job.src) + (size_t) h * head_stride;
    uint8_t* dst = reinterpret_cast<uint8_t*>(job.dst) + (size_t) h * page_bytes;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;

    for (int t = warp; t < P; t += warps) {
        const T* x = src + (size_t) t * token_stride;
        float mn = __int_as_float(0x7f800000), mx = __int_as_float(0xff800000);
        for (int c = 4 * lane; c < D; c += 128)
            for (int s = 0; s < 4; s++) {
                float v = load_f<T>(x + c + s);
                mn = java_min(mn, v);
                mx = java_max(mx, v);
            }
        for (int o = 16; o > 0; o >>= 1) {
            mn = java_min(mn, __shfl_xor_sync(0xffffffffu, mn, o));
            mx = java_max(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        }
        QuantParams p = java_params(mn, mx, 3);
        for (int c = 4 * lane; c < D; c += 128) {
            uint32_t b = 0;
            for (int s = 0; s < 4; s++) b |= (uint32_t) java_quantize(load_f<T>(x + c + s), p.scale, p.min, 3) << (2 * s);
            smem[t * row + c / 4] = (uint8_t) b;
        }
        if (lane == 0) {
            uint8_t* m = smem + meta_off + 4 * t;
            m[0] = (uint8_t) p.scale_bits;
            m[1] = (uint8_t) (p.scale_bits >> 8);
            m[2] = (uint8_t) p.min_bits;
            m[3] = (uint8_t) (p.min_bits >> 8);
        }
    }
    __syncthreads();
    copy_out(dst, smem, page_bytes);
}

}  // namespace kitty

extern "C" __global__ void kitty_quantize_keys_f32(const kitty::PageJob* jobs, int P, int D, int B, int token_stride,
                                                   int head_stride) {
    kitty::quantize_keys<float>(jobs, P, D, B, token_stride, head_stride);
}
extern "C" __global__ void kitty_quantize_keys_f16(const kitty::PageJob* jobs, int P, int D, int B, int token_stride,
                                                   int head_stride) {
    kitty::quantize_keys<__half>(jobs, P, D, B, token_stride, head_stride);
}
extern "C" __global__ void kitty_quantize_values_f32(const kitty::PageJob* jobs, int P, int D, int token_stride,
                                                     int head_stride) {
    kitty::quantize_values<float>(jobs, P, D, token_stride, head_stride);
}
extern "C" __global__ void kitty_quantize_values_f16(const kitty::PageJob* jobs, int P, int D, int token_stride,
                                                     int head_stride) {
    kitty::quantize_values<__half>(jobs, P, D, token_stride, head_stride);
}
