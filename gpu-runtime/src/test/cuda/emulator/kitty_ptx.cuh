// Host emulation of gpu-runtime/src/main/cuda/kitty_ptx.cuh (what kitty_attention_i8.cuh uses):
// TMA bulk copies land at the first wait on their mbarrier (the latest moment the hardware may
// land them, so a read before the wait sees stale bytes); an mbarrier wait that would hang, or
// that would only pass on the phase before the first, stops the run; mma.sync is computed from
// all 32 lanes' fragments exactly as the PTX ISA lays them out.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "warp.h"

namespace kitty {

struct EmuBarrier {
    int completed = 0;
    bool armed = false;
    uint32_t expect = 0, copied = 0;
    struct Copy {
        void* dst;
        const void* src;
        uint32_t bytes;
    };
    std::vector<Copy> pending;
};

inline std::map<const void*, EmuBarrier>& emu_barriers() {
    static std::map<const void*, EmuBarrier> m;
    return m;
}

inline void prefetch_l2(const void*) {}
inline float exp2_approx(float x) { return std::exp2(x); }
inline void mbar_init(uint64_t* bar, int count) {
    if (count != 1) emu::fail("mbarrier count other than 1");
    emu_barriers()[bar] = EmuBarrier{};
}
inline void fence_mbarrier_init() {}
inline void fence_proxy_async() {}

inline void emu_complete(EmuBarrier& b) {
    for (const auto& c : b.pending) std::memcpy(c.dst, c.src, c.bytes);
    if (b.copied != b.expect) emu::fail("mbarrier: bytes copied differ from the bytes expected");
    b.pending.clear();
    b.armed = false;
    b.completed++;
}

inline void mbar_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
    EmuBarrier& b = emu_barriers().at(bar);
    if (b.armed) emu::fail("mbarrier armed twice in one phase");
    b.armed = true;
    b.expect = bytes;
    b.copied = 0;
    if (bytes == 0) emu_complete(b);
}

inline void bulk_copy(void* dst, const void* src, uint32_t bytes, uint64_t* bar) {
    EmuBarrier& b = emu_barriers().at(bar);
    if (!b.armed) emu::fail("bulk copy on an mbarrier with no expected bytes");
    if (bytes % 16 != 0 || ((uintptr_t) dst) % 16 != 0 || ((uintptr_t) src) % 16 != 0) emu::fail("bulk copy not 16-byte aligned");
    b.pending.push_back({dst, src, bytes});
    b.copied += bytes;
}

inline void mbar_wait(uint64_t* bar, uint32_t parity) {
    EmuBarrier& b = emu_barriers().at(bar);
    if (b.armed) emu_complete(b);
    if (b.completed == 0) emu::fail("mbarrier wait before its first phase completed");
    if ((uint32_t) ((b.completed - 1) & 1) != parity) emu::fail("mbarrier wait on a parity whose phase never completes");
}

// C (16 x 8, s32) += A (16 x 32, u8, row) B (32 x 8, s8, col), fragments per the PTX ISA:
// a_r byte v holds A[gid + 8 (r & 1)][4 tig + v + 16 (r >> 1)], b_r byte v holds B[4 tig + v + 16 r][gid],
// c holds (gid, 2 tig), (gid, 2 tig + 1), (gid + 8, 2 tig), (gid + 8, 2 tig + 1).
inline void imma(int (&c)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0, uint32_t b1) {
    const uint32_t mine[6] = {a0, a1, a2, a3, b0, b1};
    auto slots = emu::arrive("imma", 0, mine, 6);
    const int lane = emu::lane_id(), gid = lane >> 2, tig = lane & 3;
    auto A = [&](int m, int k) -> int {
        const int l = (m & 7) * 4 + ((k & 15) >> 2);
        const int r = (m >> 3) + 2 * (k >> 4);
        return (int) ((slots[l][r] >> (8 * (k & 3))) & 0xffu);
    };
    auto B = [&](int k, int n) -> int {
        const int l = n * 4 + ((k & 15) >> 2);
        const int r = 4 + (k >> 4);
        return (int) (int8_t) ((slots[l][r] >> (8 * (k & 3))) & 0xffu);
    };
    for (int e = 0; e < 4; e++) {
        const int m = gid + 8 * (e >> 1), n = 2 * tig + (e & 1);
        long long sum = 0;
        for (int k = 0; k < 32; k++) sum += (long long) A(m, k) * B(k, n);
        const long long total = (long long) c[e] + sum;
        if (total > INT32_MAX || total < INT32_MIN) emu::fail("s32 accumulator overflow");
        c[e] = (int) total;
    }
}

}  // namespace kitty
