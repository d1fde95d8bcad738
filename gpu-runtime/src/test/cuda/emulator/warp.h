// One CUDA warp emulated on the host: its 32 lanes run the kernel's own device code as
// coroutines (ucontext), one at a time, and meet at every warp-collective operation (shuffle,
// __syncwarp, mma): each lane leaves its operands, yields, and once all 32 have arrived each
// reads what it needs. A collective reached by some lanes and not others (a divergent one) or at
// different source lines stops the run. Lanes run in a chosen order between collectives, so two
// runs in opposite orders that disagree show a missing __syncwarp.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>
#include <ucontext.h>

namespace emu {

struct Warp {
    static constexpr int LANES = 32;
    static constexpr size_t STACK = 1 << 20;
    ucontext_t sched;
    ucontext_t ctx[LANES];
    std::vector<char> stack[LANES];
    bool done[LANES];
    unsigned long long seq[LANES];
    const char* site[LANES];
    int line[LANES];
    uint32_t slot[2][LANES][12];
    std::function<void(int)> body;
    int lane = -1;
    bool reverse = false;
};

inline Warp*& current() {
    static Warp* w = nullptr;
    return w;
}

inline void fail(const char* what) {
    std::fprintf(stderr, "warp emulator: %s\n", what);
    std::exit(3);
}

// Leaves n words at the lane's slot of this collective, waits for all lanes, returns the slot set.
inline uint32_t (*arrive(const char* site, int line, const uint32_t* words, int n))[12] {
    Warp* w = current();
    const int l = w->lane;
    const int s = (int) (w->seq[l] & 1);
    std::memcpy(w->slot[s][l], words, 4 * n);
    w->site[l] = site;
    w->line[l] = line;
    swapcontext(&w->ctx[l], &w->sched);
    w->seq[l]++;
    return w->slot[s];
}

inline void lane_entry(int l) {
    Warp* w = current();
    w->body(l);
    w->done[l] = true;
}

// Runs body(lane) for the 32 lanes of one warp.
inline void run_warp(const std::function<void(int)>& body, bool reverse) {
    static Warp w;  // big: kept across blocks
    current() = &w;
    w.body = body;
    w.reverse = reverse;
    for (int l = 0; l < Warp::LANES; l++) {
        w.stack[l].resize(Warp::STACK);
        w.done[l] = false;
        w.seq[l] = 0;
        getcontext(&w.ctx[l]);
        w.ctx[l].uc_stack.ss_sp = w.stack[l].data();
        w.ctx[l].uc_stack.ss_size = Warp::STACK;
        w.ctx[l].uc_link = &w.sched;
        makecontext(&w.ctx[l], (void (*)()) lane_entry, 1, l);
    }
    for (;;) {
        int finished = 0;
        for (int i = 0; i < Warp::LANES; i++) {
            const int l = reverse ? Warp::LANES - 1 - i : i;
            if (w.done[l]) {
                finished++;
                continue;
            }
            w.lane = l;
            swapcontext(&w.sched, &w.ctx[l]);
            if (w.done[l]) finished++;
        }
        if (finished == Warp::LANES) break;
        if (finished > 0) fail("a collective reached by some lanes only (the others returned)");
        for (int l = 1; l < Warp::LANES; l++) {
            if (w.site[l] != w.site[0] || w.line[l] != w.line[0] || w.seq[l] != w.seq[0]) {
                char msg[200];
                std::snprintf(msg, sizeof msg, "lanes at different collectives: lane 0 at %s(%d) #%llu, lane %d at %s(%d) #%llu",
                              w.site[0], w.line[0], w.seq[0], l, w.site[l], w.line[l], w.seq[l]);
                fail(msg);
            }
        }
    }
    current() = nullptr;
}

inline int lane_id() { return current()->lane; }

}  // namespace emu
