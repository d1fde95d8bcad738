// Sampling on the device: one block per row of fp32 logits. Greedy, temperature, top-k, top-p,
// each row with its own Philox4x32-10 stream keyed by (seed, token index) so a request's
// tokens do not depend on its batch neighbours. Only the token id and its log-probability
// under the unmodified distribution (log softmax of the raw logits) go back to the host.
//
// top-k and top-p need no sort: thresholds are found by bisection over the logits' ordered
// bit patterns (32 passes, each a block-wide count or mass), then the token is drawn by a
// block-wide prefix sum over the kept weights in token order.
#include "common.cuh"

constexpr int SAMPLE_THREADS = 1024;

__device__ __forceinline__ uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
    *hi = __umulhi(a, b);
    return a * b;
}

// Philox4x32-10 (Salmon et al., SC'11), as in Random123; the Java mirror is Philox.java.
__device__ uint4 philox4x32_10(uint4 c, uint2 k) {
#pragma unroll
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k.x += 0x9E3779B9u;
            k.y += 0xBB67AE85u;
        }
        uint32_t hi0, hi1;
        uint32_t lo0 = mulhilo(0xD2511F53u, c.x, &hi0);
        uint32_t lo1 = mulhilo(0xCD9E8D57u, c.z, &hi1);
        c = make_uint4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

// Float bits to an unsigned key with the same order (negative floats reversed).
__device__ __forceinline__ uint32_t order_key(float f) {
    uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ float block_sum_all(float v, float* scratch) {
    float r = block_sum(v, scratch);
    __syncthreads();
    return r;
}

KS_EXTERN void __launch_bounds__(SAMPLE_THREADS) sample_rows(
        const float* __restrict__ logits, int vocab, const float* __restrict__ temperature,
        const int* __restrict__ top_k, const float* __restrict__ top_p, const unsigned long long* __restrict__ seed,
        const int* __restrict__ token_index, int* __restrict__ out_token, float* __restrict__ out_logprob) {
    __shared__ float scratch[33];
    __shared__ int best_idx[32];
    __shared__ float chunk_prefix[SAMPLE_THREADS];
    int r = blockIdx.x, tid = threadIdx.x;
    const float* x = logits + (long) r * vocab;

    // max, argmax (smallest index among equal maxima, as the host's argmax), log-sum-exp
    float mx = -INFINITY;
    int arg = 0x7fffffff;
    for (int i = tid; i < vocab; i += SAMPLE_THREADS) {
        if (x[i] > mx) {
            mx = x[i];
            arg = i;
        }
    }
    float gmax = block_max(mx, scratch);
    __syncthreads();
    int cand = mx == gmax ? arg : 0x7fffffff;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) cand = min(cand, __shfl_xor_sync(0xffffffffu, cand, o));
    if ((tid & 31) == 0) best_idx[tid >> 5] = cand;
    __syncthreads();
    int argmax = 0x7fffffff;
    for (int w = 0; w < SAMPLE_THREADS / 32; w++) argmax = min(argmax, best_idx[w]);
    float se = 0.f;
    for (int i = tid; i < vocab; i += SAMPLE_THREADS) se += expf(x[i] - gmax);
    float lse = gmax + logf(block_sum_all(se, scratch));

    int token = argmax;
    float t = temperature[r];
    if (t > 0.f) {
        float inv_t = 1.f / t;
        int k = top_k[r];
        uint32_t tau = 0;
        if (k > 0 && k < vocab) {  // largest tau with count(key >= tau) >= k: the k-th largest logit
            for (int bit = 31; bit >= 0; bit--) {
                uint32_t c = tau | (1u << bit);
                float n = 0.f;
                for (int i = tid; i < vocab; i += SAMPLE_THREADS) n += order_key(x[i]) >= c ? 1.f : 0.f;
                if (block_sum_all(n, scratch) >= (float) k) tau = c;
            }
        }
        float p = top_p[r];
        if (p < 1.f) {  // largest tau' >= tau whose kept mass is still >= p of the top-k mass
            float total = 0.f;
            for (int i = tid; i < vocab; i += SAMPLE_THREADS)
                if (order_key(x[i]) >= tau) total += expf((x[i] - gmax) * inv_t);
            total = block_sum_all(total, scratch);
            uint32_t tp = 0;  // bisection over all keys; below tau the kept set is the top-k set
            for (int bit = 31; bit >= 0; bit--) {
                uint32_t c = max(tp | (1u << bit), tau);
                float mass = 0.f;
                for (int i = tid; i < vocab; i += SAMPLE_THREADS)
                    if (order_key(x[i]) >= c) mass += expf((x[i] - gmax) * inv_t);
                if (block_sum_all(mass, scratch) >= p * total) tp = tp | (1u << bit);
            }
            tau = max(tp, tau);
        }
        // Draw u in [0, kept mass) and find its token by a prefix sum over contiguous chunks.
        int chunk = (vocab + SAMPLE_THREADS - 1) / SAMPLE_THREADS;
        int from = min(vocab, tid * chunk), to = min(vocab, from + chunk);
        float local = 0.f;
        for (int i = from; i < to; i++)
            if (order_key(x[i]) >= tau) local += expf((x[i] - gmax) * inv_t);
        chunk_prefix[tid] = local;
        __syncthreads();
        if (tid == 0) {  // exclusive scan, serial: 1024 adds, deterministic order
            float run = 0.f;
            for (int i = 0; i < SAMPLE_THREADS; i++) {
                float v = chunk_prefix[i];
                chunk_prefix[i] = run;
                run += v;
            }
            scratch[32] = run;
        }
        __syncthreads();
        unsigned long long s = seed[r];
        uint4 rnd = philox4x32_10(make_uint4((uint32_t) token_index[r], 0u, 0u, 0u),
                                  make_uint2((uint32_t) s, (uint32_t) (s >> 32)));
        float u = (float) (rnd.x >> 8) * (1.0f / 16777216.0f) * scratch[32];
        __shared__ int picked;
        if (tid == 0) picked = -1;
        __syncthreads();
        float run = chunk_prefix[tid];
        if (local > 0.f && u >= run && u < run + local) {
            int last = -1;
            for (int i = from; i < to; i++) {
                if (order_key(x[i]) >= tau) {
                    last = i;
                    run += expf((x[i] - gmax) * inv_t);
                    if (u < run) break;
                }
            }
            atomicMax(&picked, last);
        }
        __syncthreads();
        token = picked >= 0 ? picked : argmax;  // rounding at the very top: the best token
    }
    if (tid == 0) {
        out_token[r] = token;
        out_logprob[r] = x[token] - lse;
    }
}
