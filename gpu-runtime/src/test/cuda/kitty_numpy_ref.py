"""numpy port of the Java page format (kvquant: AsymmetricQuantizer, ChannelBoost,
KeyPageLayout, ValuePageLayout, QuantizedKvStream), vectorized, fp32 arithmetic op by op
(numpy float32 ops round like Java floats and never fuse into an FMA), plus the float64
attention reference. The device test checks the GPU kernels against it and, first, checks
it against the golden pages of kvquant (make_golden.py, a third implementation).
"""
import json
import math

import numpy as np

F32 = np.float32


def fp16(x):
    """fp32 -> nearest-even fp16; returns (value as fp32, fp16 bits)."""
    h = np.asarray(x, dtype=np.float32).astype(np.float16)
    return h.astype(np.float32), h.view(np.uint16)


def params(mn, mx, levels):
    scale = np.maximum((mx - mn) / np.asarray(levels).astype(F32), F32(1e-6))
    s, sb = fp16(scale)
    m, mb = fp16(mn)
    return s, m, sb, mb


def quantize(x, s, m, levels):
    q = np.floor((x - m) / s + F32(0.5))
    q = np.nan_to_num(q, nan=0.0)
    return np.clip(q, 0, levels).astype(np.int64)


def pack2(codes):
    """[rows][n] codes 0..3 -> [rows][n/4] bytes, element i at bits 2*(i%4) of byte i/4."""
    c = (codes & 3).astype(np.uint8).reshape(codes.shape[0], -1, 4)
    return (c[..., 0] | (c[..., 1] << 2) | (c[..., 2] << 4) | (c[..., 3] << 6)).astype(np.uint8)


def unpack2(rows):
    r = rows.astype(np.int64)
    return np.stack([(r >> (2 * k)) & 3 for k in range(4)], axis=-1).reshape(rows.shape[0], -1)


def key_page_bytes(P, D, B):
    return (D + B) * (P // 4) + (D if B > 0 else 0) + 4 * D


def value_page_bytes(P, D):
    return P * (D // 4) + 4 * P


def boosted_slots(x, B):
    """ChannelBoost.select: fp32 sum of |k| in token order / P, descending, ties to lower index."""
    P, D = x.shape
    slot = np.full(D, B, dtype=np.int64)
    if B == 0:
        return slot
    acc = np.zeros(D, dtype=F32)
    for t in range(P):
        acc = acc + np.abs(x[t])
    score = acc / F32(P)
    order = sorted(range(D), key=lambda d: (-float(score[d]), d))
    for r, d in enumerate(order[:B]):
        slot[d] = r
    return slot


def key_page(x, B):
    """One key page of one head from [P][D] float32, as KeyPageLayout.quantize writes it."""
    x = np.asarray(x, dtype=F32)
    P, D = x.shape
    slot = boosted_slots(x, B)
    levels = np.where(slot < B, 15, 3)
    s, m, sb, mb = params(x.min(axis=0), x.max(axis=0), levels)
    codes = quantize(x, s[None, :], m[None, :], levels[None, :])
    low = pack2(codes.T)
    out = [low.tobytes()]
    if B > 0:
        by_slot = np.argsort(slot, kind="stable")[:B]  # channel of slot 0..B-1
        out.append(pack2((codes[:, by_slot] >> 2).T).tobytes())
        out.append(slot.astype(np.uint8).tobytes())
    out.append(np.stack([sb, mb], axis=1).astype("<u2").tobytes())
    return b"".join(out), codes


def value_page(x):
    x = np.asarray(x, dtype=F32)
    P, D = x.shape
    s, m, sb, mb = params(x.min(axis=1), x.max(axis=1), 3)
    codes = quantize(x, s[:, None], m[:, None], 3)
    return pack2(codes).tobytes() + np.stack([sb, mb], axis=1).astype("<u2").tobytes(), codes


def key_dequant(page, P, D, B):
    b = np.frombuffer(page, dtype=np.uint8)
    row = P // 4
    codes = unpack2(b[: D * row].reshape(D, row)).T  # [P][D]
    meta_off = (D + B) * row + (D if B > 0 else 0)
    if B > 0:
        high = unpack2(b[D * row:(D + B) * row].reshape(B, row)).T  # [P][B]
        slot = b[(D + B) * row:(D + B) * row + D].astype(np.int64)
        for d in range(D):
            if slot[d] < B:
                codes[:, d] |= high[:, slot[d]] << 2
    meta = b[meta_off:meta_off + 4 * D].view("<u2").reshape(D, 2)
    s = meta[:, 0].view(np.float16).astype(F32)
    m = meta[:, 1].view(np.float16).astype(F32)
    return codes.astype(F32) * s[None, :] + m[None, :]


def value_dequant(page, P, D):
    b = np.frombuffer(page, dtype=np.uint8)
    codes = unpack2(b[: P * D // 4].reshape(P, D // 4))
    meta = b[P * D // 4:].view("<u2").reshape(P, 2)
    s = meta[:, 0].view(np.float16).astype(F32)
    m = meta[:, 1].view(np.float16).astype(F32)
    return codes.astype(F32) * s[:, None] + m[:, None]


def load_golden(path):
    with open(path) as f:
        j = json.load(f)
    P, D = j["P"], j["D"]
    x = np.array([int(h, 16) for h in j["input_f32"]], dtype=np.uint32).view(np.float32).reshape(P, D)
    return j["kind"], P, D, j["B"], x, np.array(j["codes"]), bytes.fromhex(j["page"])


# ---- the stream rules (QuantizedKvStream): what a decode step sees --------------------------

def stream_counts(length, S, P, W):
    """(key pages, value pages) a decode step at `length` (current token included) reads: the
    pages made by the flush after the previous step, at length - 1."""
    prev = length - 1
    first = min(S, prev)
    n_k = (prev - first) // P
    window_start = max(first, prev - W)
    n_v = max(0, window_start - first) // P
    return n_k, n_v


def num_tiles(length, S, P=128):
    sink = min(S, length)
    return (sink + P - 1) // P + ((length - S + P - 1) // P if length > S else 0)


def plan_tiles_per_split(lengths, kv_heads, sm_count, S, resident_blocks_per_sm=6, P=128, fill=4.0):
    """Mirror of the Java KittyAttentionPlan: the fewest splits giving `fill` blocks per resident slot."""
    max_tiles = max(num_tiles(n, S, P) for n in lengths)
    pairs = len(lengths) * kv_heads
    target = max(1, math.ceil(fill * sm_count * resident_blocks_per_sm))
    splits = max(1, min(max_tiles, -(-target // pairs)))
    return max(1, -(-max_tiles // splits))


def attention_reference(q, keys, values, G):
    """float64 softmax attention of one decode query per head. q [Hq][D], keys/values [L][Hkv][D]."""
    q = q.astype(np.float64)
    Hq, D = q.shape
    out = np.zeros((Hq, D))
    for hq in range(Hq):
        kv = hq // G
        s = keys[:, kv, :].astype(np.float64) @ q[hq] / math.sqrt(D)
        p = np.exp(s - s.max())
        out[hq] = (p / p.sum()) @ values[:, kv, :].astype(np.float64)
    return out
