#!/usr/bin/env python3
"""How much of a small decode GEMM's time is the cold read of its weights, and can a prefetch
into L2 during the latency-bound part of a layer (attention at small batch) take it away?

  python3 bench/l2_prefetch_probe.py [--out DIR]      (GPU machine: torch + cupy)

For the Llama-3-8B decode shapes (M = 1 and 16) it times torch's bf16 GEMM (cuBLAS), CUDA
events around the GEMM alone, median of 20, in four states of the L2:
  cold      after writing a 256 MB buffer (every weight byte comes from DRAM, as in a step);
  warm      right after the same GEMM (the weights that fit are in L2);
  prefetch  cold, then a one-warp kernel that issues cp.async.bulk.prefetch.L2 over the weights
            (evict_last), then a wait of W us standing in for attention, then the GEMM;
  line      the same with one prefetch.global.L2::evict_last per 128-byte line.
It also times the prefetch kernel itself (what it costs the stream) and prints one table; the
JSON goes to DIR/l2-prefetch-probe.json.
"""
import argparse
import json
import os
import statistics

import cupy as cp
import torch

SHAPES = [("qkv", 6144, 4096), ("o", 4096, 4096), ("gate_up", 28672, 4096), ("down", 4096, 14336)]

SRC = r"""
extern "C" __global__ void prefetch_bulk(const char* p, long long bytes, int chunk) {
    unsigned long long policy;
    asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;" : "=l"(policy));
    long long n = (bytes + chunk - 1) / chunk;
    for (long long i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long off = i * chunk;
        unsigned size = (unsigned) (bytes - off < chunk ? bytes - off : chunk);
        asm volatile("cp.async.bulk.prefetch.L2.global.L2::cache_hint [%0], %1, %2;"
                     :: "l"(p + off), "r"(size), "l"(policy) : "memory");
    }
}
extern "C" __global__ void prefetch_lines(const char* p, long long bytes) {
    for (long long off = 128LL * (blockIdx.x * blockDim.x + threadIdx.x); off < bytes;
         off += 128LL * gridDim.x * blockDim.x)
        asm volatile("prefetch.global.L2::evict_last [%0];" :: "l"(p + off));
}
extern "C" __global__ void spin(long long ns) {
    unsigned long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); } while (t - t0 < (unsigned long long) ns);
}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False
    stream = torch.cuda.current_stream()
    cps = cp.cuda.ExternalStream(stream.cuda_stream)
    mod = cp.RawModule(code=SRC, options=("-arch=sm_90a",))
    bulk, lines, spin = mod.get_function("prefetch_bulk"), mod.get_function("prefetch_lines"), mod.get_function("spin")
    flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
    props = torch.cuda.get_device_properties(0)
    print(f"device {props.name}, L2 {props.L2_cache_size / 2**20:.0f} MiB")

    def timed(before, fn):
        t = []
        for _ in range(args.reps):
            before()
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            torch.cuda.synchronize()
            t.append(a.elapsed_time(b) * 1000)
        return statistics.median(t)

    rows = []
    for name, n, k in SHAPES:
        w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
        nbytes = w.numel() * 2
        ptr = cp.uint64(w.data_ptr())
        for m in (1, 16):
            x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            gemm = lambda: torch.matmul(x, w.t())  # noqa: E731
            gemm()
            cold = lambda: flush.fill_(1)  # noqa: E731
            r = dict(gemm=name, M=m, N=n, K=k, weight_mb=nbytes / 1e6)
            r["cold_us"] = timed(cold, gemm)
            r["warm_us"] = timed(gemm, gemm)
            r["bulk_issue_us"] = timed(cold, lambda: bulk((1,), (32,), (ptr, cp.int64(nbytes), cp.int32(1 << 16)), stream=cps))
            r["line_issue_us"] = timed(cold, lambda: lines((264,), (256,), (ptr, cp.int64(nbytes)), stream=cps))
            for wait_us in (10, 20, 40):
                def pre_bulk(wait_us=wait_us):
                    cold()
                    bulk((1,), (32,), (ptr, cp.int64(nbytes), cp.int32(1 << 16)), stream=cps)
                    spin((1,), (1,), (cp.int64(wait_us * 1000),), stream=cps)

                def pre_line(wait_us=wait_us):
                    cold()
                    lines((264,), (256,), (ptr, cp.int64(nbytes)), stream=cps)
                    spin((1,), (1,), (cp.int64(wait_us * 1000),), stream=cps)
                r[f"bulk_wait{wait_us}_us"] = timed(pre_bulk, gemm)
                r[f"line_wait{wait_us}_us"] = timed(pre_line, gemm)
            r["cold_pct_of_copy_4.2"] = nbytes / (r["cold_us"] * 1e-6) / 4.2e12 * 100
            rows.append(r)
            print(" ".join(f"{k_}={v:.1f}" if isinstance(v, float) else f"{k_}={v}" for k_, v in r.items()), flush=True)
        del w
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "l2-prefetch-probe.json"), "w") as f:
            json.dump(dict(device=props.name, l2_bytes=props.L2_cache_size, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
