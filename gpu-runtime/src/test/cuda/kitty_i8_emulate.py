#!/usr/bin/env python3
"""The i8 decode-attention kernel (gpu-runtime/src/main/cuda/kitty_attention_i8.cuh) run on the
CPU, with no GPU: its own device code compiled with g++ against a warp emulator
(emulator/: lanes as coroutines meeting at every shuffle, __syncwarp and mma; mma computed from
the PTX ISA's fragment layouts; TMA copies landing at the first mbarrier wait), over the device
test's cases (kitty_pages_device_test.ATTENTION_CASES), against the same float64 reference.
Each case runs twice, lanes in opposite orders between collectives: results that differ show a
missing __syncwarp.

  python3 gpu-runtime/src/test/cuda/kitty_i8_emulate.py [--quick] [--keep DIR]

Needs g++ (C++17) and numpy. Exit status 0: every case within 1e-4 of the reference and both
lane orders bit-identical.
"""
import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kitty_numpy_ref as ref  # noqa: E402
from kitty_pages_device_test import ATTENTION_CASES, LOG2E, P, build_batch_host  # noqa: E402

SOURCES = os.path.join(HERE, "../../main/cuda")
HEADERS = ["kitty_attention_i8.cuh", "kitty_pages.cuh", "kitty_tiles.cuh"]  # kitty_ptx.cuh: the emulator's


def build(workdir):
    """(CUDA code type-puns through reinterpret_cast as nvcc allows: hence -fno-strict-aliasing.)
    The production headers next to the emulator's kitty_ptx.cuh (a quoted include finds the
    including file's directory first, so the copy is what makes the emulated primitives win)."""
    src = os.path.join(workdir, "src")
    os.makedirs(src, exist_ok=True)
    for h in HEADERS:
        shutil.copy(os.path.join(SOURCES, h), src)
    for f in ("kitty_ptx.cuh", "cuda_fp16.h", "cuda_host.h", "warp.h", "run_i8.cpp"):
        shutil.copy(os.path.join(HERE, "emulator", f), src)
    exe = os.path.join(workdir, "run_i8")
    cmd = ["g++", "-std=c++17", "-O2", "-ffp-contract=off", "-fno-fast-math", "-fno-strict-aliasing", "-include", "cuda_host.h", "-I", src,
           os.path.join(src, "run_i8.cpp"), "-o", exe]
    subprocess.run(cmd, check=True)
    return exe


def run_case(exe, workdir, a, tps, max_splits, batch, reverse):
    inp, out = os.path.join(workdir, "in.bin"), os.path.join(workdir, "out.bin")
    D, G, Hkv = a["D"], a["G"], a["Hkv"]
    hdr = np.array([D, G, Hkv, a["S"], a["B"], a["R"], batch, tps, max_splits, int(reverse)], dtype=np.int32)
    arrays = [a["q"].astype(np.float32), a["kpool"].astype(np.uint8), a["vpool"].astype(np.uint8),
              a["ktab"].astype(np.int32), a["vtab"].astype(np.int32), a["seqs"].astype(np.int32),
              a["fpk"].astype(np.float16), a["fpv"].astype(np.float16)]
    with open(inp, "wb") as f:
        f.write(b"KITTYI8\0")
        f.write(hdr.tobytes())
        f.write(np.array([LOG2E / math.sqrt(D)], dtype=np.float32).tobytes())
        f.write(np.array([x.nbytes for x in arrays], dtype=np.int64).tobytes())
        for x in arrays:
            f.write(np.ascontiguousarray(x).tobytes())
    subprocess.run([exe, inp, out], check=True)
    raw = np.fromfile(out, dtype=np.float32)
    n_acc = batch * Hkv * G * max_splits * D
    return raw[:n_acc].reshape(batch, Hkv * G, max_splits, D), raw[n_acc:].reshape(batch, Hkv * G, max_splits, 2)


def combine(acc, ml, lengths, S, tps):
    """kitty_attention_combine: splits merged in log2 units."""
    batch, hq, _, D = acc.shape
    out = np.zeros((batch, hq, D))
    for b, L in enumerate(lengths):
        n = -(-ref.num_tiles(L, S) // tps)
        m = ml[b, :, :n, 0].astype(np.float64)
        l = ml[b, :, :n, 1].astype(np.float64)
        mx = m.max(axis=1, keepdims=True)
        w = np.exp2(m - mx)
        out[b] = (w[:, :, None] * acc[b, :, :n, :]).sum(axis=1) / (w * l).sum(axis=1)[:, None]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="the first tiles-per-split choice of each case only")
    ap.add_argument("--keep", help="build and work in this directory (kept)")
    args = ap.parse_args()
    workdir = args.keep or tempfile.mkdtemp(prefix="kitty-i8-emu-")
    os.makedirs(workdir, exist_ok=True)
    exe = build(workdir)
    rng = np.random.default_rng(20261203)
    ok = True
    W = 128
    for D, G, Hkv, S, B, lengths, tps_list in ATTENTION_CASES:
        R = (W + P + P - 1) // P * P
        a, want = build_batch_host(rng, lengths, D, G, Hkv, S, B, W, R)
        max_tiles = max(ref.num_tiles(n, S) for n in lengths)
        for tps in (tps_list[:1] if args.quick else tps_list):
            t = tps or ref.plan_tiles_per_split(lengths, Hkv, 132, S, resident_blocks_per_sm=8)
            ms = -(-max_tiles // t)
            acc, ml = run_case(exe, workdir, a, t, ms, len(lengths), False)
            acc_r, ml_r = run_case(exe, workdir, a, t, ms, len(lengths), True)
            same = np.array_equal(acc, acc_r, equal_nan=True) and np.array_equal(ml, ml_r, equal_nan=True)
            got = combine(acc, ml, lengths, S, t)
            finite = np.isfinite(got).all()
            err = np.abs(got - want).max() if finite else float("inf")
            rel = err / np.abs(want).max()
            good = finite and rel < 1e-4 and same
            ok &= good
            print(f"emu  attention[i8] D={D} G={G} Hkv={Hkv} S={S} B={B} tps={t} splits<={ms} lengths={lengths}: "
                  f"max abs err {err:.3e}, rel {rel:.3e}, lane orders {'identical' if same else 'DIFFER'} "
                  f"{'ok' if good else 'FAIL'}", flush=True)
    print("EMULATED I8 ATTENTION", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
