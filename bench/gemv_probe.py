#!/usr/bin/env python3
"""Decode GEMMs (M = 1 and 16) at the Llama-3-8B shapes, launched back to back as in a step:
our GEMV kernels (gemm.ptx), torch's bf16 matmul (cuBLAS) and a plain streaming read of the
same bytes (the ceiling for a kernel of that size), with cold weights.

  python3 bench/gemv_probe.py [--out DIR]      (GPU machine: torch + cupy)

Each kernel runs over 8 copies of the weights in turn (8 x 33-235 MB, far more than the L2),
20 rounds, CUDA events around the whole run: time per GEMM = total / 160, so launch gaps
between kernels count as they do in a replayed step. Results are checked against torch.
The multi-warp "_w" GEMV variants are not in the shipped gemm.cu (they did not beat the
engine's choices by enough to keep): apply docs/bench/runs/gemv-probe/gemv-wide-variants.patch
and run gpu-runtime/src/main/cuda/build-ptx.sh to time them; without it they are skipped.
"""
import argparse
import json
import lzma
import os
import statistics
import tempfile

import cupy as cp
import torch

SHAPES = [("qkv", 6144, 4096), ("o", 4096, 4096), ("gate_up", 28672, 4096), ("down", 4096, 14336)]
COPIES = 8
# label: (warps per block, 32-k chunks per stage, stages); warps 0 = the static one-warp kernel
VARIANTS = {8: {"gemv": (0, 4, 11), "w1c4s13": (1, 4, 13), "w2c2s13": (2, 2, 13), "w4c1s13": (4, 1, 13),
                "w4c1s8": (4, 1, 8), "w4c2s6": (4, 2, 6)},
            16: {"gemv": (0, 4, 7), "w2c2s9": (2, 2, 9), "w4c1s9": (4, 1, 9)}}
ROUNDS = 20

READ_SRC = r"""
extern "C" __global__ void stream_read(const uint4* __restrict__ p, long long n16, unsigned* out) {
    unsigned acc = 0;
    long long stride = (long long) gridDim.x * blockDim.x;
    long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n16; i += 4 * stride) {
        uint4 a = __ldcs(p + i), b = __ldcs(p + i + stride), c = __ldcs(p + i + 2 * stride), d = __ldcs(p + i + 3 * stride);
        acc ^= a.x ^ b.y ^ c.z ^ d.w;
    }
    for (; i < n16; i += stride) acc ^= __ldcs(p + i).x;
    if (acc == 0x9e3779b9u) out[0] = acc;  // keeps the loads
}
"""


def ptx_file(path):
    if os.path.exists(path):
        return path
    with lzma.open(path + ".xz", "rb") as f:
        text = f.read()
    tmp = tempfile.NamedTemporaryFile(suffix=".ptx", delete=False)
    with tmp:
        tmp.write(text)
    return tmp.name


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--ptx", default=os.path.join(here, "../gpu-runtime/src/main/resources/kittyspark/cuda/gemm.ptx"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    stream = torch.cuda.current_stream()
    cps = cp.cuda.ExternalStream(stream.cuda_stream)
    gemm = cp.RawModule(path=ptx_file(args.ptx))
    read = cp.RawModule(code=READ_SRC).get_function("stream_read")
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    sink = cp.zeros(1, dtype=cp.uint32)

    def run_timed(fn):
        fn(0)  # warm-up (module load, torch handles)
        torch.cuda.synchronize()
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for r in range(ROUNDS):
            for c in range(COPIES):
                fn(c)
        b.record()
        torch.cuda.synchronize()
        return a.elapsed_time(b) * 1000 / (ROUNDS * COPIES)

    rows = []
    for name, n, k in SHAPES:
        ws = [torch.randn(n, k, device="cuda", dtype=torch.bfloat16) for _ in range(COPIES)]
        nbytes = n * k * 2
        for m in (1, 16):
            x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            out = torch.empty(m, n, device="cuda", dtype=torch.float32)
            want = (x.float() @ ws[0].float().t())
            r = dict(gemm=name, M=m, N=n, K=k, weight_mb=round(nbytes / 1e6, 1))
            r["torch_us"] = run_timed(lambda c: torch.matmul(x, ws[c].t()))
            r["read_us"] = run_timed(lambda c: read((sms * 8,), (256,), (cp.uint64(ws[c].data_ptr()), cp.int64(nbytes // 16),
                                                                     sink), stream=cps))
            rh = 8 if m <= 8 else 16
            for label, (warps, ch, stages) in VARIANTS[rh].items():
                kern = f"gemm_gemv_m{rh}" if warps == 0 else f"gemm_gemv_w{warps}c{ch}s{stages}_m{rh}"
                try:
                    f = gemm.get_function(kern)
                except Exception:  # noqa: BLE001 - a variant of the patch, not in this PTX
                    continue
                smem = 0 if warps == 0 else warps * stages * ch * (1 + rh // 8) * 512
                if smem > 48 * 1024:
                    f.max_dynamic_shared_size_bytes = smem

                def launch(c, f=f, threads=32 * max(1, warps), smem=smem):
                    f(((n + 7) // 8,), (threads,), (cp.uint64(x.data_ptr()), cp.uint64(0), cp.uint64(ws[c].data_ptr()),
                                                    cp.uint64(out.data_ptr()), cp.int32(m), cp.int32(n), cp.int32(k),
                                                    cp.int32(0)), stream=cps, shared_mem=smem)
                r[label + "_us"] = run_timed(launch)
                out.zero_()
                launch(0)
                torch.cuda.synchronize()
                r[label + "_relerr"] = ((out - want).abs().max() / want.abs().max()).item()
            for key in [k_ for k_ in r if k_.endswith("_us")]:
                r[key.replace("_us", "_pct")] = round(nbytes / (r[key] * 1e-6) / 4.2e12 * 100, 1)
            rows.append(r)
            print(" ".join(f"{k_}={v:.3g}" if isinstance(v, float) else f"{k_}={v}" for k_, v in r.items()), flush=True)
        del ws
        torch.cuda.empty_cache()
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "gemv-probe.json"), "w") as f:
            json.dump(dict(device=torch.cuda.get_device_name(0), copies=COPIES, rounds=ROUNDS, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
