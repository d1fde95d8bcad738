// Synthetic weights and KV content generated on the device (benchmarks of model shapes whose
// real weights cannot travel): a counter-based hash, so the same seed gives the same model.
#include "common.cuh"

__device__ __forceinline__ uint64_t splitmix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Uniform in [-1, 1) from (seed, index).
__device__ __forceinline__ float uniform_pm1(uint64_t seed, uint64_t i) {
    uint64_t h = splitmix64(seed ^ splitmix64(i));
    return (float) (h >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

// bf16 values uniform with standard deviation std (half-width std * sqrt(3)) around mean.
// grid-stride over n. grid: any, block: 256
KS_EXTERN void fill_bf16_uniform(__nv_bfloat16* __restrict__ dst, long n, unsigned long long seed, float mean,
                                 float std) {
    float a = std * 1.7320508f;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x)
        dst[i] = __float2bfloat16_rn(mean + a * uniform_pm1(seed, (uint64_t) i));
}

KS_EXTERN void fill_f32_uniform(float* __restrict__ dst, long n, unsigned long long seed, float mean, float std) {
    float a = std * 1.7320508f;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x)
        dst[i] = mean + a * uniform_pm1(seed, (uint64_t) i);
}

KS_EXTERN void fill_f16_uniform(__half* __restrict__ dst, long n, unsigned long long seed, float mean, float std) {
    float a = std * 1.7320508f;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x)
        dst[i] = __float2half_rn(mean + a * uniform_pm1(seed, (uint64_t) i));
}
