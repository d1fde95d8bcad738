// Runs kitty::attention_i8 (kitty_attention_i8.cuh) for every block of a launch on the warp
// emulator: reads the launch's arrays from a file written by kitty_i8_emulate.py, writes the
// partial sums and (max, sum) pairs the combine kernel would read. Built by that script.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kitty_attention_i8.cuh"

namespace {

struct Launch {
    int D, G, Hkv, S, B, R, batch, tps, max_splits, reverse;
    float scale_log2;
    std::vector<std::vector<uint8_t>> arrays;  // q, kpool, vpool, ktab, vtab, seqs, fpk, fpv
};

Launch read(const char* path) {
    FILE* f = std::fopen(path, "rb");
    if (!f) emu::fail("cannot open the input");
    char magic[8];
    int hdr[10];
    float scale;
    long long sizes[8];
    if (std::fread(magic, 1, 8, f) != 8 || std::memcmp(magic, "KITTYI8", 8) != 0) emu::fail("not a launch file");
    if (std::fread(hdr, 4, 10, f) != 10 || std::fread(&scale, 4, 1, f) != 1 || std::fread(sizes, 8, 8, f) != 8)
        emu::fail("short header");
    Launch l{hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5], hdr[6], hdr[7], hdr[8], hdr[9], scale, {}};
    for (long long n : sizes) {
        std::vector<uint8_t> a((size_t) n + 16);  // slack: no array is empty
        if (std::fread(a.data(), 1, (size_t) n, f) != (size_t) n) emu::fail("short array");
        l.arrays.push_back(std::move(a));
    }
    std::fclose(f);
    return l;
}

template <int D, int G>
void run(const Launch& l, std::vector<float>& acc, std::vector<float>& ml) {
    const int bytes = kitty::i8_shared_bytes<D, G>(l.B);
    std::vector<uint8_t> smem_store((size_t) bytes + 256);
    uint8_t* smem = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(smem_store.data()) + 127) & ~(uintptr_t) 127);
    const auto* q = reinterpret_cast<const float*>(l.arrays[0].data());
    const auto* kpool = l.arrays[1].data();
    const auto* vpool = l.arrays[2].data();
    const auto* ktab = reinterpret_cast<const int*>(l.arrays[3].data());
    const auto* vtab = reinterpret_cast<const int*>(l.arrays[4].data());
    const auto* seqs = reinterpret_cast<const kitty::SeqMeta*>(l.arrays[5].data());
    const auto* fpk = reinterpret_cast<const __half*>(l.arrays[6].data());
    const auto* fpv = reinterpret_cast<const __half*>(l.arrays[7].data());
    for (int b = 0; b < l.batch; b++)
        for (int h = 0; h < l.Hkv; h++)
            for (int split = 0; split < l.max_splits; split++) {
                std::memset(smem, 0xA5, (size_t) bytes);  // stale bytes, as a reused SM holds
                emu::run_warp(
                    [&](int lane) {
                        kitty::attention_i8<D, G>(q, kpool, vpool, ktab, vtab, seqs, fpk, fpv, acc.data(), ml.data(), l.Hkv,
                                                  l.S, l.R, l.B, l.tps, l.max_splits, l.scale_log2, smem, split, h, b, lane);
                    },
                    l.reverse != 0);
            }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: run_i8 IN OUT\n");
        return 2;
    }
    const Launch l = read(argv[1]);
    const size_t rows = (size_t) l.batch * l.Hkv * l.G * l.max_splits;
    std::vector<float> acc(rows * l.D, std::nanf("")), ml(rows * 2, std::nanf(""));
    const int shape = 1000 * l.D + l.G;
    switch (shape) {
        case 64001: run<64, 1>(l, acc, ml); break;
        case 64002: run<64, 2>(l, acc, ml); break;
        case 64004: run<64, 4>(l, acc, ml); break;
        case 64008: run<64, 8>(l, acc, ml); break;
        case 128001: run<128, 1>(l, acc, ml); break;
        case 128002: run<128, 2>(l, acc, ml); break;
        case 128004: run<128, 4>(l, acc, ml); break;
        case 128008: run<128, 8>(l, acc, ml); break;
        default: emu::fail("no kernel for this head dim and group");
    }
    FILE* f = std::fopen(argv[2], "wb");
    if (!f) emu::fail("cannot write the output");
    std::fwrite(acc.data(), 4, acc.size(), f);
    std::fwrite(ml.data(), 4, ml.size(), f);
    std::fclose(f);
    return 0;
}
