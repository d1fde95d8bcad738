#!/usr/bin/env python3
"""Device test and benchmark of the Kitty page kernels (kitty_quantize.ptx, kitty_attention.ptx).

  python3 kitty_pages_device_test.py --cpu-only            # numpy parts only, no GPU
  python3 kitty_pages_device_test.py [--ptx-dir DIR] [--golden DIR] [--variants i8,bulk] [--out DIR] [--no-bench]

(DIR defaults: the PTX in gpu-runtime/src/main/resources/kittyspark/cuda, kvquant's golden pages.)

1. quantize kernels on the four golden inputs: output bytes identical to the golden pages;
   then batched launches (many pages x kv heads, fp32 and fp16 sources, strided rows) against
   the numpy port of the Java rules.
2. decode attention on random data against a float64 reference over the numpy-dequantized
   pages, several shapes and lengths at every boundary, batch of different lengths, splits.
3. timing at the Llama-3-8B layer shape (8 kv heads, 32 q heads, head_dim 128, context 8K,
   batch 1 and 64): effective bandwidth = bytes read / time against the device copy bandwidth.
"""
import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitty_numpy_ref as ref  # noqa: E402

P = 128
LOG2E = 1.4426950408889634


def cpu_checks(golden_dir):
    ok = True
    for f in sorted(glob.glob(os.path.join(golden_dir, "*.json"))):
        kind, p, d, b, x, codes, page = ref.load_golden(f)
        got, c = ref.key_page(x, b) if kind == "key" else ref.value_page(x)
        same = got == page and (c == codes).all()
        ok &= same
        print(f"cpu  numpy port vs golden {os.path.basename(f)}: {'IDENTICAL' if same else 'DIFFERENT'}")
    # dequantization round trip stays within scale/2 (the Java rule) on random data
    rng = np.random.default_rng(1)
    x = rng.standard_normal((P, 64)).astype(np.float32)
    page, _ = ref.key_page(x, 16)
    err = np.abs(ref.key_dequant(page, P, 64, 16) - x).max()
    print(f"cpu  key round trip max err {err:.4f}")
    return ok


# ------------------------------------------------------------------------------------------------
def ptx_file(path):
    """A loadable PTX file for one module: the shipped one is xz-compressed (the Java loader
    decompresses it), so it is unpacked to a temporary file; a plain .ptx (a local nvcc build) is
    used as is. RawModule(path=) takes PTX, RawModule(code=) would compile CUDA C."""
    import lzma
    import tempfile
    if os.path.exists(path):
        return path
    with lzma.open(path + ".xz", "rb") as f:
        text = f.read()
    tmp = tempfile.NamedTemporaryFile(prefix=os.path.basename(path) + ".", suffix=".ptx", delete=False)
    with tmp:
        tmp.write(text)
    return tmp.name


class Kernels:
    def __init__(self, cp, *ptx):
        self.cp = cp
        self.mods = [cp.RawModule(path=ptx_file(p)) for p in ptx]
        self.fn = {}
        self.carveout_set = []

    def get(self, name):
        if name not in self.fn:
            errors = []
            for m in self.mods:
                try:
                    self.fn[name] = m.get_function(name)
                    break
                except Exception as e:  # noqa: BLE001 - not in this module; kept for the message
                    errors.append(repr(e))
            else:
                raise KeyError(f"no kernel {name}: {'; '.join(errors)}")
        return self.fn[name]

    def quantize_keys(self, jobs, n_jobs, kv_heads, p, d, b, token_stride, head_stride, f16):
        cp = self.cp
        smem = (ref.key_page_bytes(p, d, b) + 15) // 16 * 16 + 4 * d
        k = self.get("kitty_quantize_keys_f16" if f16 else "kitty_quantize_keys_f32")
        k((n_jobs, kv_heads), ((d + 31) // 32 * 32,), (jobs, np.int32(p), np.int32(d), np.int32(b),
                                                        np.int32(token_stride), np.int32(head_stride)), shared_mem=smem)

    def quantize_values(self, jobs, n_jobs, kv_heads, p, d, token_stride, head_stride, f16):
        smem = ref.value_page_bytes(p, d)
        k = self.get("kitty_quantize_values_f16" if f16 else "kitty_quantize_values_f32")
        k((n_jobs, kv_heads), (128,), (jobs, np.int32(p), np.int32(d), np.int32(token_stride),
                                      np.int32(head_stride)), shared_mem=smem)

    def attention(self, a, tps, max_splits, combine=True, variant=""):
        """variant "" = cp.async pages (kitty_attention_*), "bulk" = TMA bulk pages (kitty_attention_bulk_*),
        "i8" = one warp per split, integer tensor cores (kitty_attention_i8_*)."""
        k = self.get(f"kitty_attention_{variant + '_' if variant else ''}d{a['D']}_g{a['G']}")
        if variant == "i8" and k not in self.carveout_set:
            try:  # 8 blocks of 26 KB per SM need the largest shared-memory carveout (KittyCache asks the same)
                k.preferred_shared_memory_carveout = 100
            except Exception as e:  # noqa: BLE001 - an older CuPy: the driver's default carveout
                print(f"note: could not set the i8 kernel's carveout ({e})")
            self.carveout_set.append(k)
        batch = a["seqs"].shape[0] // 8
        threads, smem = (32, i8_shared_bytes(a["D"], a["G"], a["B"])) if variant == "i8" else (128, 0)
        k((max_splits, a["Hkv"], batch), (threads,),
          (a["q"], a["kpool"], a["vpool"], a["ktab"], a["vtab"], a["seqs"], a["fpk"], a["fpv"], a["pacc"], a["pml"],
           np.int32(a["Hkv"]), np.int32(a["S"]), np.int32(a["R"]), np.int32(a["B"]), np.int32(tps),
           np.int32(max_splits), np.float32(LOG2E / math.sqrt(a["D"]))), shared_mem=smem)
        if combine:
            self.get("kitty_attention_combine")((a["Hkv"] * a["G"], batch), (128,),
                                                (a["pacc"], a["pml"], a["seqs"], a["out"], np.int32(a["D"]),
                                                 np.int32(a["S"]), np.int32(tps), np.int32(max_splits)))


def i8_shared_bytes(D, G, B):
    """kitty_attention_i8.cuh's i8_shared_bytes (KittyKernels.i8SharedBytes)."""
    ncol = 8 * (3 if G == 8 else 2)
    key_stride = ((D + 32 * (D // 64)) // 4 + 3) // 8 * 8 + 4
    key_page = 32 * (D + B) + (D if B > 0 else 0) + 4 * D
    key_stage = (max(key_page, 32 * (D + 32 * (-(-B // 32)))) + 15) // 16 * 16
    value_stage = P * (D // 4) + 4 * P
    return key_stage + value_stage + ncol * key_stride * 4 + max(ncol * 36 * 4, 4 * G * D, 512 * G) + 16


RESIDENT = {"i8": 12, "bulk": 6, "": 6}  # blocks per SM the planner assumes (KittyCache asks the driver)
FILL = {"i8": 0.6, "bulk": 4.0, "": 4.0}  # KittyAttentionVariant.fill(): blocks per resident slot the plan aims for


def planned_tps(lengths, kv_heads, sm_count, S, variant):
    return ref.plan_tiles_per_split(lengths, kv_heads, sm_count, S, RESIDENT[variant], fill=FILL[variant])


def jobs_array(cp, pairs):
    return cp.asarray(np.array(pairs, dtype=np.uint64).reshape(-1, 2))


def golden_on_device(kern, cp, golden_dir):
    ok = True
    for f in sorted(glob.glob(os.path.join(golden_dir, "*.json"))):
        kind, p, d, b, x, _, page = ref.load_golden(f)
        src = cp.asarray(x)
        n = ref.key_page_bytes(p, d, b) if kind == "key" else ref.value_page_bytes(p, d)
        dst = cp.full(n, 0xA5, dtype=cp.uint8)  # poisoned: every byte must be written
        jobs = jobs_array(cp, [src.data.ptr, dst.data.ptr])
        if kind == "key":
            kern.quantize_keys(jobs, 1, 1, p, d, b, d, d, False)
        else:
            kern.quantize_values(jobs, 1, 1, p, d, d, d, False)
        got = cp.asnumpy(dst).tobytes()
        same = got == page
        ok &= same
        print(f"gpu  quantize vs golden {os.path.basename(f)}: {'IDENTICAL' if same else 'DIFFERENT'}")
        if not same:
            diff = [i for i in range(n) if got[i] != page[i]]
            print(f"     {len(diff)} bytes differ, first at {diff[:8]}")
    return ok


def batched_quantize_on_device(kern, cp, rng):
    """Many pages in one launch, several kv heads, fp32 and fp16 sources with strided rows."""
    ok = True
    for (d, b, hkv, f16, pages) in [(64, 16, 2, False, 6), (128, 32, 8, True, 5), (128, 0, 4, False, 3),
                                    (64, 13, 3, True, 4)]:
        # source [pages][P][hkv][d] with a few outlier channels
        x = rng.standard_normal((pages, P, hkv, d)).astype(np.float32)
        x[..., ::9] *= 6
        if f16:
            x = x.astype(np.float16).astype(np.float32)
        src = cp.asarray(x.astype(np.float16) if f16 else x)
        kb, vb = ref.key_page_bytes(P, d, b), ref.value_page_bytes(P, d)
        kdst = cp.full((pages, hkv, kb), 0xA5, dtype=cp.uint8)
        vdst = cp.full((pages, hkv, vb), 0xA5, dtype=cp.uint8)
        order = rng.permutation(pages)  # job i writes page slot order[i]
        es = 2 if f16 else 4
        kjobs = jobs_array(cp, [[src.data.ptr + i * P * hkv * d * es, kdst.data.ptr + int(order[i]) * hkv * kb]
                                for i in range(pages)])
        vjobs = jobs_array(cp, [[src.data.ptr + i * P * hkv * d * es, vdst.data.ptr + int(order[i]) * hkv * vb]
                                for i in range(pages)])
        kern.quantize_keys(kjobs, pages, hkv, P, d, b, hkv * d, d, f16)
        kern.quantize_values(vjobs, pages, hkv, P, d, hkv * d, d, f16)
        kg, vg = cp.asnumpy(kdst), cp.asnumpy(vdst)
        bad_k = bad_v = 0
        for i in range(pages):
            for h in range(hkv):
                bad_k += kg[order[i], h].tobytes() != ref.key_page(x[i, :, h, :], b)[0]
                bad_v += vg[order[i], h].tobytes() != ref.value_page(x[i, :, h, :])[0]
        same = bad_k == 0 and bad_v == 0
        ok &= same
        print(f"gpu  batched quantize D={d} B={b} Hkv={hkv} {'f16' if f16 else 'f32'} {pages} pages: "
              f"{'IDENTICAL' if same else f'{bad_k} key / {bad_v} value pages differ'}")
    return ok


# ------------------------------------------------------------------------------------------------
def build_batch(cp, rng, lengths, D, G, Hkv, S, B, W, R):
    """build_batch_host's arrays on the device."""
    a, want = build_batch_host(rng, lengths, D, G, Hkv, S, B, W, R)
    for k in ("q", "kpool", "vpool", "ktab", "vtab", "seqs", "fpk", "fpv"):
        a[k] = cp.asarray(a[k])
    return a, want


def build_batch_host(rng, lengths, D, G, Hkv, S, B, W, R):
    """Random sequences laid out as the engine would hold them after the previous step's flush,
    the packed pages made by the numpy port at random page ids, stale garbage in unused ring
    rows; plus the float64 reference output of each sequence (numpy arrays)."""
    kb, vb = ref.key_page_bytes(P, D, B), ref.value_page_bytes(P, D)
    slots = len(lengths)
    fpk = rng.standard_normal((slots, S + P, Hkv, D)).astype(np.float16) * 7   # garbage
    fpv = rng.standard_normal((slots, S + R, Hkv, D)).astype(np.float16) * 7
    kpages, vpages, ktab, vtab, meta, refs, eff = [], [], [], [], [], [], []
    q = rng.standard_normal((len(lengths), Hkv * G, D)).astype(np.float32)
    for i, L in enumerate(lengths):
        keys = (rng.standard_normal((L, Hkv, D)) * np.where(np.arange(D) % 11 == 0, 5.0, 1.0)).astype(np.float16)
        vals = rng.standard_normal((L, Hkv, D)).astype(np.float16)
        n_k, n_v = ref.stream_counts(L, S, P, W)
        keff = keys.astype(np.float32).copy()
        veff = vals.astype(np.float32).copy()
        meta.append([L, n_k, n_v, len(ktab), len(vtab), i, 0, 0])
        for j in range(n_k):
            t0 = S + j * P
            pg = []
            for h in range(Hkv):
                x = keys[t0:t0 + P, h, :].astype(np.float32)
                page, _ = ref.key_page(x, B)
                keff[t0:t0 + P, h, :] = ref.key_dequant(page, P, D, B)
                pg.append(np.frombuffer(page, dtype=np.uint8))
            ktab.append(len(kpages))
            kpages.append(np.stack(pg))
        for j in range(n_v):
            t0 = S + j * P
            pg = []
            for h in range(Hkv):
                page, _ = ref.value_page(vals[t0:t0 + P, h, :].astype(np.float32))
                veff[t0:t0 + P, h, :] = ref.value_dequant(page, P, D)
                pg.append(np.frombuffer(page, dtype=np.uint8))
            vtab.append(len(vpages))
            vpages.append(np.stack(pg))
        for t in range(L):  # the full-precision rows the kernel may read
            if t < S:
                fpk[i, t] = keys[t]
                fpv[i, t] = vals[t]
            else:
                if t >= S + n_k * P:
                    fpk[i, S + (t - S) % P] = keys[t]
                if t >= S + n_v * P:
                    fpv[i, S + (t - S) % R] = vals[t]
        refs.append(ref.attention_reference(q[i], keff, veff, G))
        eff.append((keff, veff))
    # shuffle page ids so the page tables matter
    kperm, vperm = rng.permutation(max(1, len(kpages))), rng.permutation(max(1, len(vpages)))
    kpool = np.zeros((max(1, len(kpages)), Hkv, kb), dtype=np.uint8)
    vpool = np.zeros((max(1, len(vpages)), Hkv, vb), dtype=np.uint8)
    for j, pg in enumerate(kpages):
        kpool[kperm[j]] = pg
    for j, pg in enumerate(vpages):
        vpool[vperm[j]] = pg
    ktab = [int(kperm[j]) for j in ktab] or [0]
    vtab = [int(vperm[j]) for j in vtab] or [0]
    a = dict(D=D, G=G, Hkv=Hkv, S=S, B=B, R=R, q=q, kpool=kpool, vpool=vpool,
             ktab=np.array(ktab, dtype=np.int32), vtab=np.array(vtab, dtype=np.int32),
             seqs=np.array(meta, dtype=np.int32).reshape(-1), fpk=fpk, fpv=fpv, eff=eff)
    return a, np.stack(refs)


# D, G, Hkv, S, B, lengths, tiles_per_split choices (None: the planner's): lengths at every
# boundary (1, S-1, S, S+1, S+P-1, S+P, S+P+1, ...), batches of different lengths, splits > 1
ATTENTION_CASES = [
    (64, 1, 2, 32, 16, [1, 31, 32, 33, 159, 160, 161, 289, 290, 700], [None, 1, 2]),
    (64, 4, 2, 32, 16, [5, 160, 161, 417, 1000, 33], [None, 1, 3]),
    (64, 8, 1, 32, 13, [40, 161, 300, 800], [None, 1]),             # f = 0.2: B not a multiple of 16
    (64, 2, 2, 32, 32, [33, 290, 545], [None, 2]),                 # f = 0.5 at D = 64: a full boosted k-tile
    (128, 1, 2, 32, 32, [1, 32, 33, 161, 290, 1200], [None, 1]),
    (128, 4, 2, 32, 32, [2, 31, 159, 160, 161, 545, 2345], [None, 1, 2, 5]),
    (128, 8, 2, 32, 32, [17, 160, 289, 1500], [None, 1, 4]),
    (128, 4, 2, 0, 0, [1, 127, 128, 129, 256, 257, 1300], [None, 1, 3]),    # kivi: no sink, no boost
    (128, 2, 3, 32, 32, [64, 3000], [None, 2]),
    (128, 4, 1, 32, 64, [161, 700], [None, 1]),                    # f = 0.5: two boosted k-tiles
    (128, 4, 2, 16, 13, [17, 300, 1000], [None, 2]),               # B = 13, sink 16
    (128, 4, 1, 32, 48, [450], [1]),                               # B = 48: one and a half boosted k-tiles
]


def attention_on_device(kern, cp, rng, sm_count, quick=False, variants=("i8", "bulk")):
    ok = True
    rows = []
    W = 128
    cases = ATTENTION_CASES
    if quick:  # small subset for compute-sanitizer
        cases = [(64, 4, 1, 32, 16, [33, 161, 290], [2]), (128, 4, 1, 32, 32, [160, 300], [1])]
    for D, G, Hkv, S, B, lengths, tps_list in cases:
        R = (W + P + P - 1) // P * P
        a, want = build_batch(cp, rng, lengths, D, G, Hkv, S, B, W, R)
        max_tiles = max(ref.num_tiles(n, S) for n in lengths)
        for tps, variant in [(x, v) for v in variants for x in tps_list]:
            t = tps or planned_tps(lengths, Hkv, sm_count, S, variant)
            ms = -(-max_tiles // t)
            a["pacc"] = cp.full((len(lengths), Hkv * G, ms, D), np.nan, dtype=cp.float32)
            a["pml"] = cp.full((len(lengths), Hkv * G, ms, 2), np.nan, dtype=cp.float32)
            a["out"] = cp.full((len(lengths), Hkv * G, D), np.nan, dtype=cp.float32)
            kern.attention(a, t, ms, variant=variant)
            got = cp.asnumpy(a["out"]).astype(np.float64)
            finite = np.isfinite(got).all()
            err = np.abs(got - want).max() if finite else float("inf")
            rel = err / np.abs(want).max()
            good = finite and rel < 1e-4
            ok &= good
            rows.append((D, G, Hkv, S, B, t, ms, lengths, err, rel, good, variant or "plain"))
            print(f"gpu  attention[{variant or 'plain'}] D={D} G={G} Hkv={Hkv} S={S} B={B} tps={t} splits<={ms} lengths={lengths}: "
                  f"max abs err {err:.3e}, rel {rel:.3e} {'ok' if good else 'FAIL'}")
    return ok, rows


# ------------------------------------------------------------------------------------------------
def median_ms(cp, fn, reps=20, warm=3):
    for _ in range(warm):
        fn()
    cp.cuda.Device().synchronize()
    ts = []
    for _ in range(reps):
        e0, e1 = cp.cuda.Event(), cp.cuda.Event()
        e0.record()
        fn()
        e1.record()
        e1.synchronize()
        ts.append(cp.cuda.get_elapsed_time(e0, e1))
    return float(np.median(ts))


def median_ms_graph(cp, fn, reps=20, warm=3):
    """Median time of fn captured as a CUDA graph (no Python launch gaps), events on its stream."""
    try:
        s = cp.cuda.Stream(non_blocking=True)
        with s:
            fn()  # first launches outside capture (module load)
            s.synchronize()
            s.begin_capture()
            fn()
            g = s.end_capture()
        for _ in range(warm):
            g.launch(s)
        s.synchronize()
        ts = []
        for _ in range(reps):
            e0, e1 = cp.cuda.Event(), cp.cuda.Event()
            e0.record(s)
            g.launch(s)
            e1.record(s)
            e1.synchronize()
            ts.append(cp.cuda.get_elapsed_time(e0, e1))
        return float(np.median(ts))
    except Exception as e:  # noqa: BLE001 - fall back to plain launches, say so
        print(f"bench graph capture failed ({e}); timing plain launches")
        return median_ms(cp, fn, reps, warm)


def copy_bandwidth(cp):
    n = 1 << 30
    a = cp.random.random(n // 4, dtype=cp.float32)
    b = cp.empty_like(a)
    ms = median_ms(cp, lambda: b.__setitem__(Ellipsis, a))
    del a, b
    return 2 * n / (ms * 1e-3)


def synth_layer(cp, kern, batch, L, D, G, Hkv, S, B, W, R, rng_seed):
    """One layer's packed cache for `batch` sequences of length L, pages made by the GPU
    quantizers from random fp16 data (timing must not run on zeros or garbage)."""
    n_k, n_v = ref.stream_counts(L, S, P, W)
    kb, vb = ref.key_page_bytes(P, D, B), ref.value_page_bytes(P, D)
    rs = cp.random.RandomState(rng_seed)
    kp, vp = batch * n_k, batch * n_v
    kpool = cp.empty((kp, Hkv, kb), dtype=cp.uint8)
    vpool = cp.empty((vp, Hkv, vb), dtype=cp.uint8)
    chunk = 512  # pages per quantize launch (bounded scratch)
    qtime = 0.0
    for pool, npages, bytes_, keys in ((kpool, kp, kb, True), (vpool, vp, vb, False)):
        for c0 in range(0, npages, chunk):
            n = min(chunk, npages - c0)
            src = (rs.standard_normal((n, P, Hkv, D), dtype=cp.float32)).astype(cp.float16)
            jobs = jobs_array(cp, [[src.data.ptr + i * P * Hkv * D * 2, pool.data.ptr + (c0 + i) * Hkv * bytes_]
                                   for i in range(n)])
            e0, e1 = cp.cuda.Event(), cp.cuda.Event()
            e0.record()
            if keys:
                kern.quantize_keys(jobs, n, Hkv, P, D, B, Hkv * D, D, True)
            else:
                kern.quantize_values(jobs, n, Hkv, P, D, Hkv * D, D, True)
            e1.record()
            e1.synchronize()
            qtime += cp.cuda.get_elapsed_time(e0, e1)
    perm_k = np.random.default_rng(rng_seed).permutation(max(kp, 1)).astype(np.int32)
    perm_v = np.random.default_rng(rng_seed + 1).permutation(max(vp, 1)).astype(np.int32)
    meta = np.array([[L, n_k, n_v, i * n_k, i * n_v, i, 0, 0] for i in range(batch)], dtype=np.int32)
    a = dict(D=D, G=G, Hkv=Hkv, S=S, B=B, R=R,
             q=rs.standard_normal((batch, Hkv * G, D), dtype=cp.float32),
             kpool=kpool, vpool=vpool, ktab=cp.asarray(perm_k), vtab=cp.asarray(perm_v),
             seqs=cp.asarray(meta.reshape(-1)),
             fpk=rs.standard_normal((batch, S + P, Hkv, D), dtype=cp.float32).astype(cp.float16),
             fpv=rs.standard_normal((batch, S + R, Hkv, D), dtype=cp.float32).astype(cp.float16))
    packed = batch * Hkv * (n_k * kb + n_v * vb)
    fp_rows = batch * ((L - n_k * P) + (L - n_v * P))
    fp_bytes = fp_rows * Hkv * D * 2
    return a, packed, fp_bytes, qtime, (n_k, n_v)


def bench(kern, cp, sm_count, out_rows, variants, batches=(1, 64, 256)):
    bw = copy_bandwidth(cp)
    print(f"bench device copy bandwidth (read + write): {bw / 1e12:.3f} TB/s")
    D, G, Hkv, W, L = 128, 4, 8, 128, 8192
    for mode, S, B in (("kitty", 32, 32), ("kivi", 0, 0)):
        R = 256
        for batch in batches:
            # enough layers that the timed loop does not live in the 50 MB L2
            layers = 24 if batch == 1 else 2
            lay = []
            qtime = 0.0
            for li in range(layers):
                a, packed, fp_bytes, qt, counts = synth_layer(cp, kern, batch, L, D, G, Hkv, S, B, W, R, 100 + li)
                qtime += qt
                lay.append(a)
            lengths = [L] * batch
            tiles = ref.num_tiles(L, S)
            plans = {vvar: planned_tps(lengths, Hkv, sm_count, S, vvar) for _, _, vvar in variants}
            cand = sorted(set(plans.values()) | {1, 2, 4, 6, 8, 11, 16, 33, tiles})
            for vname, vkern, vvar in variants:
              planned = plans[vvar]
              results = {}
              for tps in cand:
                ms_ = -(-tiles // tps)
                for a in lay:
                    a["pacc"] = cp.empty((batch, Hkv * G, ms_, D), dtype=cp.float32)
                    a["pml"] = cp.empty((batch, Hkv * G, ms_, 2), dtype=cp.float32)
                    a["out"] = cp.empty((batch, Hkv * G, D), dtype=cp.float32)

                def run_all(combine=True):
                    for a in lay:
                        vkern.attention(a, tps, ms_, combine, variant=vvar)
                t_all = median_ms_graph(cp, run_all) / layers
                t_main = median_ms_graph(cp, lambda: run_all(False)) / layers
                results[tps] = (t_all, t_main, ms_)
              best = min(results, key=lambda k: results[k][0])
              for tps in cand:
                t_all, t_main, ms_ = results[tps]
                row = dict(variant=vname, mode=mode, batch=batch, context=L, tiles_per_split=tps, splits=ms_,
                           planned=tps == planned, us_total=t_all * 1e3, us_attention_only=t_main * 1e3,
                           packed_bytes=packed, fp16_bytes=fp_bytes,
                           packed_GBps=packed / (t_all * 1e-3) / 1e9,
                           all_GBps=(packed + fp_bytes) / (t_all * 1e-3) / 1e9,
                           pct_copy_packed=100 * packed / (t_all * 1e-3) / bw,
                           pct_copy_all=100 * (packed + fp_bytes) / (t_all * 1e-3) / bw,
                           copy_TBps=bw / 1e12, quantize_ms_all_pages=qtime / layers)
                out_rows.append(row)
                print(f"bench {vname:5s} {mode} batch={batch} ctx={L} tps={tps:3d}{'*' if tps == planned else ' '}"
                      f"{'(best)' if tps == best else '      '} splits={ms_:3d} "
                      f"total {t_all * 1e3:8.1f} us (attn {t_main * 1e3:8.1f}) "
                      f"packed {packed / 1e6:7.1f} MB -> {row['packed_GBps']:7.1f} GB/s = {row['pct_copy_packed']:5.1f}% copy; "
                      f"with fp16 regions {row['pct_copy_all']:5.1f}%")
            print(f"bench {mode} batch={batch}: quantizing all {counts[0]}+{counts[1]} pages x {batch} seqs x {Hkv} heads"
                  f" of one layer took {qtime / layers:.3f} ms")
            del lay
            cp.get_default_memory_pool().free_all_blocks()
    return bw


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--ptx-dir", default=os.path.join(here, "../../main/resources/kittyspark/cuda"))
    ap.add_argument("--golden", default=os.path.join(here, "../../../../kvquant/src/test/resources/golden"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--cpu-only", action="store_true")
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--quick", action="store_true", help="golden pages and two small attention cases (sanitizer)")
    ap.add_argument("--baseline-ptx", help="an earlier attention PTX to benchmark beside these (its cp.async kernel, as v1)")
    ap.add_argument("--profile", action="store_true", help="one batch-64 launch of each variant, for ncu")
    ap.add_argument("--batches", default="1,64,256", help="batch sizes of the bandwidth benchmark")
    ap.add_argument("--variants", default="i8,bulk", help="attention variants to check and time: i8, bulk, plain")
    args = ap.parse_args()
    ok = cpu_checks(args.golden)
    if args.cpu_only:
        print("CPU CHECKS", "PASS" if ok else "FAIL")
        return 0 if ok else 1
    import cupy as cp
    dev = cp.cuda.Device()
    props = cp.cuda.runtime.getDeviceProperties(dev.id)
    sm_count = props["multiProcessorCount"]
    print(f"device {props['name'].decode()} SMs={sm_count}")
    kern = Kernels(cp, os.path.join(args.ptx_dir, "kitty_quantize.ptx"), os.path.join(args.ptx_dir, "kitty_attention.ptx"))
    if args.profile:
        a, _, _, _, _ = synth_layer(cp, kern, 64, 8192, 128, 4, 8, 32, 32, 128, 256, 5)
        tps = planned_tps([8192] * 64, 8, sm_count, 32, "i8")
        ms_ = -(-ref.num_tiles(8192, 32) // tps)
        a["pacc"] = cp.empty((64, 32, ms_, 128), dtype=cp.float32)
        a["pml"] = cp.empty((64, 32, ms_, 2), dtype=cp.float32)
        a["out"] = cp.empty((64, 32, 128), dtype=cp.float32)
        for variant in ("", "bulk", "i8"):
            kern.attention(a, tps, ms_, variant=variant)
        cp.cuda.Device().synchronize()
        print(f"profiled tps={tps} splits={ms_}")
        return 0
    rng = np.random.default_rng(int(time.time()))
    ok &= golden_on_device(kern, cp, args.golden)
    if not args.quick:
        ok &= batched_quantize_on_device(kern, cp, rng)
    chosen = [v for v in args.variants.split(",") if v]
    aok, arows = attention_on_device(kern, cp, rng, sm_count, args.quick,
                                     tuple("" if v == "plain" else v for v in chosen))
    ok &= aok
    rows = []
    if not args.no_bench and not args.quick:
        variants = [(v, kern, "" if v == "plain" else v) for v in chosen]
        if args.baseline_ptx:
            variants.insert(0, ("v1", Kernels(cp, args.baseline_ptx), ""))
        bench(kern, cp, sm_count, rows, variants, tuple(int(b) for b in args.batches.split(",")))
    if args.out:
        with open(os.path.join(args.out, f"kitty_bench_{'_'.join(chosen)}.json"), "w") as f:
            json.dump(dict(ok=bool(ok), attention=[dict(D=r[0], G=r[1], Hkv=r[2], S=r[3], B=r[4], tps=r[5],
                                                         splits=r[6], lengths=r[7], max_abs_err=r[8], rel_err=r[9],
                                                         ok=bool(r[10]), variant=r[11]) for r in arows], bench=rows),
                      f, indent=1)
    print("ALL CHECKS", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
