// y[M,N] (+)= x[M,K] . W[N,K]^T on the tensor cores (mma.sync m16n8k16 bf16, fp32 accumulate).
// W is a Hugging Face weight [out][in] row-major in bf16; x comes as bf16 hi (and, in split
// precision, lo = bf16(x - hi)): y = W.hi + W.lo then carries ~16 mantissa bits of x.
//
// Fragments are loaded 16 bytes at a time: a thread of quad q takes k = q*8 .. q*8+7 of its
// row, and the two mma of a 32-wide k chunk use a fixed permutation of k, the same for x and W,
// so the dot products are unchanged (a sum does not care about the order of its k).
#include "common.cuh"

__device__ __forceinline__ void mma_bf16(float* c, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                         uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// The two mma of one 32-wide k chunk: ua/ua8 hold rows g and g+8 of x, ub row g of W.
__device__ __forceinline__ void mma_chunk(float* c, uint4 ua, uint4 ua8, uint4 ub) {
    mma_bf16(c, ua.x, ua8.x, ua.y, ua8.y, ub.x, ub.y);
    mma_bf16(c, ua.z, ua8.z, ua.w, ua8.w, ub.z, ub.w);
}

__device__ __forceinline__ uint4 ldg16(const __nv_bfloat16* p) {
    return __ldg(reinterpret_cast<const uint4*>(p));
}

// Writes one accumulator quad (rows g, g+8; columns 2q, 2q+1) with bounds and optional add.
__device__ __forceinline__ void store_quad(float* out, const float* c, int row, int col, int M, int N, int accumulate) {
#pragma unroll
    for (int h = 0; h < 2; h++) {
        int r = row + 8 * h;
        if (r >= M) continue;
#pragma unroll
        for (int e = 0; e < 2; e++) {
            int n = col + e;
            if (n < N) {
                float* o = out + (long) r * N + n;
                *o = (accumulate ? *o : 0.f) + c[2 * h + e];
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Decode shapes (M <= 16*MT per grid row): memory-bound, every weight byte is streamed once.
// A block owns 8*NT output columns; its 8 warps split K (interleaved 32-wide chunks) and meet
// in shared memory in a fixed tree, so the summation order is fixed (results do not depend on
// timing). Each warp keeps the next group of weight loads in flight while the current group
// goes through the tensor cores. NT > 1 (wider blocks) for larger M: each x fragment then
// serves NT weight tiles, so x is re-read from L2 N/(8*NT) times instead of N/8.
// grid: (ceil(N/(8*NT)), ceil(M/(16*MT))), block: 256
constexpr int DEC_WARPS = 8;

template <int MT, int NT, bool SPLIT>
__device__ __forceinline__ void decode_chunk(float (*acc)[NT][4], const __nv_bfloat16* __restrict__ ahi,
                                             const __nv_bfloat16* __restrict__ alo, const int* ra, const int* rb,
                                             int K, int k, int q, const uint4* ub) {
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        uint4 ua = ldg16(ahi + (long) ra[mt] * K + k + q * 8);
        uint4 ua8 = ldg16(ahi + (long) rb[mt] * K + k + q * 8);
#pragma unroll
        for (int nt = 0; nt < NT; nt++) mma_chunk(acc[mt][nt], ua, ua8, ub[nt]);
        if (SPLIT) {
            uint4 la = ldg16(alo + (long) ra[mt] * K + k + q * 8);
            uint4 la8 = ldg16(alo + (long) rb[mt] * K + k + q * 8);
#pragma unroll
            for (int nt = 0; nt < NT; nt++) mma_chunk(acc[mt][nt], la, la8, ub[nt]);
        }
    }
}

template <int MT, int NT, bool SPLIT>
__device__ void gemm_decode(const __nv_bfloat16* __restrict__ ahi, const __nv_bfloat16* __restrict__ alo,
                            const __nv_bfloat16* __restrict__ w, float* __restrict__ out, int M, int N, int K,
                            int accumulate, float* __restrict__ part, int k_len) {
    // Split K over grid.z (few-column GEMMs get enough blocks): block z sums k in
    // [z*k_len, (z+1)*k_len) into its own partial plane, which gemm_splitk_reduce adds up in order.
    int kBegin = blockIdx.z * k_len;
    int kEnd = min(K, kBegin + k_len);
    if (gridDim.z > 1) {
        out = part + (long) blockIdx.z * M * N;
        accumulate = 0;
    }
    __shared__ float red[DEC_WARPS / 2][MT * NT * 4][32];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int g = lane >> 2, q = lane & 3;
    int n0 = blockIdx.x * 8 * NT;
    int mb = blockIdx.y * 16 * MT;
    const __nv_bfloat16* wp[NT];
#pragma unroll
    for (int nt = 0; nt < NT; nt++) wp[nt] = w + (long) min(n0 + nt * 8 + g, N - 1) * K + q * 8;
    int ra[MT], rb[MT];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        ra[mt] = min(mb + mt * 16 + g, M - 1);
        rb[mt] = min(mb + mt * 16 + g + 8, M - 1);
    }
    float acc[MT][NT][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < NT; nt++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[mt][nt][c] = 0.f;

    constexpr int U = NT == 1 ? 8 : (NT >= 4 ? 1 : 4 / NT);  // chunks per group: U * NT weight loads
    constexpr int STRIDE = DEC_WARPS * 32;       // k distance between a warp's chunks
    constexpr int GROUP = U * STRIDE;            // k covered by one group
    uint4 cur[U][NT], nxt[U][NT];
    int k0 = kBegin + warp * 32;
#pragma unroll
    for (int u = 0; u < U; u++) {
        int k = k0 + u * STRIDE;
#pragma unroll
        for (int nt = 0; nt < NT; nt++) cur[u][nt] = k < kEnd ? ldg16(wp[nt] + k) : make_uint4(0, 0, 0, 0);
    }
    for (int kc = k0; kc < kEnd; kc += GROUP) {
#pragma unroll
        for (int u = 0; u < U; u++) {
            int k = kc + GROUP + u * STRIDE;
#pragma unroll
            for (int nt = 0; nt < NT; nt++) nxt[u][nt] = k < kEnd ? ldg16(wp[nt] + k) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            int k = kc + u * STRIDE;
            if (k < kEnd) decode_chunk<MT, NT, SPLIT>(acc, ahi, alo, ra, rb, K, k, q, cur[u]);
        }
#pragma unroll
        for (int u = 0; u < U; u++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++) cur[u][nt] = nxt[u][nt];
    }
    // Fixed-order tree over the warps: 8 -> 4 -> 2 -> 1.
#pragma unroll
    for (int half = DEC_WARPS / 2; half >= 1; half /= 2) {
        if (warp >= half && warp < 2 * half) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < NT; nt++)
#pragma unroll
                    for (int c = 0; c < 4; c++) red[warp - half][(mt * NT + nt) * 4 + c][lane] = acc[mt][nt][c];
        }
        __syncthreads();
        if (warp < half) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < NT; nt++)
#pragma unroll
                    for (int c = 0; c < 4; c++) acc[mt][nt][c] += red[warp][(mt * NT + nt) * 4 + c][lane];
        }
        __syncthreads();
    }
    if (warp == 0) {
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
                store_quad(out, acc[mt][nt], mb + mt * 16 + g, n0 + nt * 8 + 2 * q, M, N, accumulate);
    }
}

#define DECODE_ENTRY(MT, NT)                                                                                     \
    KS_EXTERN void __launch_bounds__(256) gemm_decode_m##MT(const __nv_bfloat16* ahi, const __nv_bfloat16* alo,  \
            const __nv_bfloat16* w, float* out, int M, int N, int K, int accumulate, float* part, int k_len) {   \
        gemm_decode<MT, NT, false>(ahi, alo, w, out, M, N, K, accumulate, part, k_len);                          \
    }                                                                                                            \
    KS_EXTERN void __launch_bounds__(256) gemm_decode_split_m##MT(const __nv_bfloat16* ahi,                      \
            const __nv_bfloat16* alo, const __nv_bfloat16* w, float* out, int M, int N, int K, int accumulate,   \
            float* part, int k_len) {                                                                            \
        gemm_decode<MT, NT, true>(ahi, alo, w, out, M, N, K, accumulate, part, k_len);                           \
    }
DECODE_ENTRY(1, 1)
DECODE_ENTRY(2, 2)
DECODE_ENTRY(4, 4)

// ---------------------------------------------------------------------------------------------
// Decode GEMV (M <= 16): weight streaming at copy bandwidth. One warp (one block) owns 8 output
// columns over the whole of K, so no partial sums meet anywhere: one launch, a fixed summation
// order. Its weight rows and x stream through a private ring of stages of 128 k in shared
// memory with cp.async (each lane copies and later reads back only its own 16-byte pieces, so
// no barrier is needed), keeping all stages but one in flight while the current one goes
// through the tensor cores. W bypasses L1 (.cg: each byte is read once); x
// goes through it (.ca), where the warps of an SM share it. RH = 8 (M <= 8): rows 8..15 of the
// mma tile are zeros, so x costs half. Each weight row's 64-byte run per chunk is read by one
// quad of lanes, whole 32-byte sectors.
// grid: ceil(N / 8), block: 32
constexpr int GEMV_CHUNKS = 4;  // 32-wide k chunks per stage

// W: L2 only, and the whole 128-byte line at once (its other half is this warp's next chunk).
__device__ __forceinline__ void gemv_copy_cg(void* smem, const void* gmem) {
    unsigned s = (unsigned) __cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16;\n" ::"r"(s), "l"(gmem) : "memory");
}
__device__ __forceinline__ void gemv_copy_ca(void* smem, const void* gmem) {
    unsigned s = (unsigned) __cvta_generic_to_shared(smem);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem) : "memory");
}
__device__ __forceinline__ void gemv_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void gemv_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

// As many stages as fit in 44 KiB of static shared memory per block (each 16-byte piece per
// lane per chunk costs 2 KiB a stage): 11 for M <= 8, so ~20 KiB of weight loads per warp are
// in flight, and 5 blocks of it per SM where there are enough columns.
template <int RH, bool SPLIT>
struct GemvShape {
    static constexpr int X = (RH / 8) * (SPLIT ? 2 : 1);  // x pieces per lane per chunk
    static constexpr int STAGES = (44 * 1024) / (GEMV_CHUNKS * 32 * 16 * (1 + X));
};

template <int RH, bool SPLIT>
__device__ void gemm_gemv(const __nv_bfloat16* __restrict__ ahi, const __nv_bfloat16* __restrict__ alo,
                          const __nv_bfloat16* __restrict__ w, float* __restrict__ out, int M, int N, int K,
                          int accumulate) {
    constexpr int X = GemvShape<RH, SPLIT>::X;
    constexpr int STAGES = GemvShape<RH, SPLIT>::STAGES;
    constexpr int SK = GEMV_CHUNKS * 32;  // k per stage
    // ring[stage][chunk][piece][lane]: piece 0 is W, then x rows g (hi), g + 8 (hi), g (lo), g + 8 (lo)
    __shared__ uint4 ring[STAGES][GEMV_CHUNKS][1 + X][32];
    int lane = threadIdx.x & 31;
    int g = lane >> 2, q = lane & 3;
    int n0 = blockIdx.x * 8;
    const __nv_bfloat16* src[1 + X];
    src[0] = w + (long) min(n0 + g, N - 1) * K + q * 8;
    src[1] = ahi + (long) min(g, M - 1) * K + q * 8;
    if constexpr (RH == 16) src[2] = ahi + (long) min(g + 8, M - 1) * K + q * 8;
    if constexpr (SPLIT) {
        src[1 + RH / 8] = alo + (long) min(g, M - 1) * K + q * 8;
        if constexpr (RH == 16) src[4] = alo + (long) min(g + 8, M - 1) * K + q * 8;
    }
    int stages = (K + SK - 1) / SK;
    auto issue = [&](int s) {
        if (s < stages) {
            int slot = s % STAGES;
#pragma unroll
            for (int j = 0; j < GEMV_CHUNKS; j++) {
                int k = s * SK + j * 32;
                if (k < K) {
                    gemv_copy_cg(&ring[slot][j][0][lane], src[0] + k);
#pragma unroll
                    for (int p = 1; p <= X; p++) gemv_copy_ca(&ring[slot][j][p][lane], src[p] + k);
                }
            }
        }
        gemv_commit();  // an empty group past the end keeps the wait count uniform
    };
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) issue(s);
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    const uint4 zero = make_uint4(0, 0, 0, 0);
    for (int s = 0; s < stages; s++) {
        // The slot refilled here was read back (into registers) during stage s - 1.
        issue(s + STAGES - 1);
        gemv_wait<STAGES - 1>();
        int slot = s % STAGES;
#pragma unroll
        for (int j = 0; j < GEMV_CHUNKS; j++) {
            if (s * SK + j * 32 < K) {
                uint4 ub = ring[slot][j][0][lane];
                uint4 ua = ring[slot][j][1][lane];
                uint4 ua8 = zero, la8 = zero;
                if constexpr (RH == 16) ua8 = ring[slot][j][2][lane];
                mma_chunk(acc, ua, ua8, ub);
                if constexpr (SPLIT) {
                    uint4 la = ring[slot][j][1 + RH / 8][lane];
                    if constexpr (RH == 16) la8 = ring[slot][j][X][lane];
                    mma_chunk(acc, la, la8, ub);
                }
            }
        }
    }
    gemv_wait<0>();
    store_quad(out, acc, g, n0 + 2 * q, M, N, accumulate);
}

#define GEMV_ENTRY(RH)                                                                                           \
    KS_EXTERN void __launch_bounds__(32) gemm_gemv_m##RH(const __nv_bfloat16* ahi, const __nv_bfloat16* alo,     \
            const __nv_bfloat16* w, float* out, int M, int N, int K, int accumulate) {                           \
        gemm_gemv<RH, false>(ahi, alo, w, out, M, N, K, accumulate);                                             \
    }                                                                                                            \
    KS_EXTERN void __launch_bounds__(32) gemm_gemv_split_m##RH(const __nv_bfloat16* ahi,                         \
            const __nv_bfloat16* alo, const __nv_bfloat16* w, float* out, int M, int N, int K, int accumulate) { \
        gemm_gemv<RH, true>(ahi, alo, w, out, M, N, K, accumulate);                                              \
    }
GEMV_ENTRY(8)
GEMV_ENTRY(16)

// Holds the stream for ns nanoseconds: a benchmark enqueues the launches it times behind this,
// so the host's cost of enqueueing them is not part of the time. grid: 1, block: 1
KS_EXTERN void gemm_spin(long long ns) {
    unsigned long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do {
        __nanosleep(1000);
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    } while (t - t0 < (unsigned long long) ns);
}

// out[M,N] (+)= sum over z of part[z][M][N], z in order (deterministic). grid: any, block: 256
KS_EXTERN void gemm_splitk_reduce(const float* __restrict__ part, float* __restrict__ out, int M, int N, int splits,
                                  int accumulate) {
    long total = (long) M * N;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < total; i += (long) gridDim.x * blockDim.x) {
        float s = accumulate ? out[i] : 0.f;
        for (int z = 0; z < splits; z++) s += part[z * total + i];
        out[i] = s;
    }
}

// ---------------------------------------------------------------------------------------------
// Prefill shapes: 128x128 tiles, k in 32-wide steps through a 3-stage cp.async pipeline in
// shared memory; 8 warps of 64x32 each (4 x 4 mma tiles).
// grid: (ceil(N/128), ceil(M/128)), block: 256, dynamic smem: STAGES * (A(+lo) + B) tiles
constexpr int PBM = 128, PBN = 128, PBK = 32, PSTAGES = 3;

__device__ __forceinline__ uint4 lds16(const __nv_bfloat16* p) { return *reinterpret_cast<const uint4*>(p); }

template <bool SPLIT>
__device__ void gemm_tiled(const __nv_bfloat16* __restrict__ ahi, const __nv_bfloat16* __restrict__ alo,
                           const __nv_bfloat16* __restrict__ w, float* __restrict__ out, int M, int N, int K,
                           int accumulate) {
    extern __shared__ __align__(16) __nv_bfloat16 smem[];
    constexpr int TILE = PBM * PBK;  // elements of one operand tile
    constexpr int PER_STAGE = (SPLIT ? 3 : 2) * TILE;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int g = lane >> 2, q = lane & 3;
    int wm = warp >> 2, wn = warp & 3;
    int m0 = blockIdx.y * PBM, n0 = blockIdx.x * PBN;
    int kTiles = K / PBK;

    auto load_stage = [&](int stage, int kt) {
        __nv_bfloat16* base = smem + stage * PER_STAGE;
        int k0 = kt * PBK;
#pragma unroll
        for (int i = 0; i < 2; i++) {
            int idx = tid + i * 256;
            int row = idx >> 2, ch = idx & 3;
            int ar = min(m0 + row, M - 1);
            int br = min(n0 + row, N - 1);
            cp_async16(base + row * PBK + ch * 8, ahi + (long) ar * K + k0 + ch * 8);
            cp_async16(base + TILE + row * PBK + ch * 8, w + (long) br * K + k0 + ch * 8);
            if (SPLIT) cp_async16(base + 2 * TILE + row * PBK + ch * 8, alo + (long) ar * K + k0 + ch * 8);
        }
    };

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[i][j][c] = 0.f;

#pragma unroll
    for (int s = 0; s < PSTAGES - 1; s++) {
        if (s < kTiles) load_stage(s, s);
        cp_async_commit();
    }
    for (int kt = 0; kt < kTiles; kt++) {
        cp_async_wait<PSTAGES - 2>();
        __syncthreads();
        int next = kt + PSTAGES - 1;
        if (next < kTiles) load_stage(next % PSTAGES, next);
        cp_async_commit();

        const __nv_bfloat16* as = smem + (kt % PSTAGES) * PER_STAGE;
        const __nv_bfloat16* bs = as + TILE;
        uint4 ub[4];
#pragma unroll
        for (int nt = 0; nt < 4; nt++) ub[nt] = lds16(bs + (wn * 32 + nt * 8 + g) * PBK + q * 8);
#pragma unroll
        for (int part = 0; part < (SPLIT ? 2 : 1); part++) {
            const __nv_bfloat16* ap = part == 0 ? as : as + 2 * TILE;
#pragma unroll
            for (int mt = 0; mt < 4; mt++) {
                uint4 ua = lds16(ap + (wm * 64 + mt * 16 + g) * PBK + q * 8);
                uint4 ua8 = lds16(ap + (wm * 64 + mt * 16 + g + 8) * PBK + q * 8);
#pragma unroll
                for (int nt = 0; nt < 4; nt++) mma_chunk(acc[mt][nt], ua, ua8, ub[nt]);
            }
        }
    }
    cp_async_wait<0>();
#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
            store_quad(out, acc[mt][nt], m0 + wm * 64 + mt * 16 + g, n0 + wn * 32 + nt * 8 + 2 * q, M, N, accumulate);
}

KS_EXTERN void __launch_bounds__(256) gemm_tiled_plain(const __nv_bfloat16* ahi, const __nv_bfloat16* alo,
        const __nv_bfloat16* w, float* out, int M, int N, int K, int accumulate) {
    gemm_tiled<false>(ahi, alo, w, out, M, N, K, accumulate);
}
KS_EXTERN void __launch_bounds__(256) gemm_tiled_split(const __nv_bfloat16* ahi, const __nv_bfloat16* alo,
        const __nv_bfloat16* w, float* out, int M, int N, int K, int accumulate) {
    gemm_tiled<true>(ahi, alo, w, out, M, N, K, accumulate);
}
