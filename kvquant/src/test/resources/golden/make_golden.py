#!/usr/bin/env python3
"""Golden page vectors for the Kitty/KIVI page format, from a second, independent
implementation of the spec (numpy float32), so that the Java reference and the GPU kernels
are both checked against something other than themselves.

Run: python3 make_golden.py   (writes the *.json files beside it; numpy required)

Each file: {"kind": "key"|"value", "P", "D", "B", "input_f32": [hex of float32 bits, token-major
[P][D]], "codes": [[P][D] ints], "page": hex string of the page bytes}.
"""
import json
import os

import numpy as np

F32 = np.float32


def fp16_round(x):
    """fp32 -> fp16 (round to nearest even) -> fp32, and the fp16 bits."""
    h = np.array([x], dtype=np.float32).astype(np.float16)
    return F32(h.astype(np.float32)[0]), int(h.view(np.uint16)[0])


def params(mn, mx, bits):
    scale = max(F32(F32(mx - mn) / F32((1 << bits) - 1)), F32(1e-6))
    s, s_bits = fp16_round(scale)
    m, m_bits = fp16_round(mn)
    return s, m, s_bits, m_bits


def quantize(x, s, m, bits):
    q = int(np.floor(F32(F32(F32(x) - m) / s) + F32(0.5)))
    return max(0, min((1 << bits) - 1, q))


def put2(buf, row_off, i, code):
    buf[row_off + i // 4] |= (code & 3) << (2 * (i % 4))


def key_page(keys, P, D, B):
    # channel score: |k| summed in fp32 in token order, divided by P
    score = []
    for d in range(D):
        acc = F32(0)
        for t in range(P):
            acc = F32(acc + F32(abs(keys[t][d])))
        score.append(F32(acc / F32(P)))
    order = sorted(range(D), key=lambda d: (-score[d], d))
    slot = {d: B for d in range(D)}
    for r, d in enumerate(order[:B]):
        slot[d] = r
    row = P // 4
    low, high = bytearray(D * row), bytearray(B * row)
    index = bytearray(D if B > 0 else 0)
    meta = bytearray(D * 4)
    codes = [[0] * D for _ in range(P)]
    for d in range(D):
        bits = 4 if slot[d] < B else 2
        col = [keys[t][d] for t in range(P)]
        s, m, sb, mb = params(min(col), max(col), bits)
        for t in range(P):
            q = quantize(col[t], s, m, bits)
            codes[t][d] = q
            put2(low, d * row, t, q & 3)
            if bits == 4:
                put2(high, slot[d] * row, t, (q >> 2) & 3)
        if B > 0:
            index[d] = slot[d]
        meta[4 * d:4 * d + 4] = bytes([sb & 255, sb >> 8, mb & 255, mb >> 8])
    return bytes(low + high + index + meta), codes


def value_page(values, P, D):
    row = D // 4
    data, meta = bytearray(P * row), bytearray(P * 4)
    codes = [[0] * D for _ in range(P)]
    for t in range(P):
        s, m, sb, mb = params(min(values[t]), max(values[t]), 2)
        for d in range(D):
            q = quantize(values[t][d], s, m, 2)
            codes[t][d] = q
            put2(data, t * row, d, q)
        meta[4 * t:4 * t + 4] = bytes([sb & 255, sb >> 8, mb & 255, mb >> 8])
    return bytes(data + meta), codes


def lcg_input(P, D, seed, outliers):
    """Deterministic input in [-1, 1), with every `outliers`-th channel scaled up 8x."""
    state = seed
    out = []
    for t in range(P):
        row = []
        for d in range(D):
            state = (state * 1103515245 + 12345) % (1 << 31)
            x = F32(state / float(1 << 30) - 1.0)
            if outliers and d % outliers == 0:
                x = F32(x * F32(8))
            row.append(x)
        out.append(row)
    return out


def designed_key_input():
    """P=8, D=8: channel d holds base_d + code * step_d with codes spanning the full range,
    so scale and min are exactly representable and every code is known in advance.
    Channels 5 and 2 have the largest magnitudes and are the B=2 boosted ones."""
    P, D = 8, 8
    base = [0.0, -1.0, 10.0, 0.5, -2.0, -20.0, 1.0, 0.25]
    step = [0.5, 0.25, 1.0, 0.125, 1.0, 2.0, 0.5, 0.0]  # channel 7 is constant
    boosted = {2, 5}
    keys = []
    for t in range(P):
        row = []
        for d in range(D):
            levels = 15 if d in boosted else 3
            code = (t * (3 if d % 2 else 5) + d) % (levels + 1)
            if t == 0:
                code = 0
            if t == 1:
                code = levels
            row.append(F32(base[d] + code * step[d]))
        keys.append(row)
    return keys


def hexf(rows):
    return [format(int(np.array([x], dtype=np.float32).view(np.uint32)[0]), "08x") for r in rows for x in r]


def write(name, kind, P, D, B, inp, page, codes):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, "w") as f:
        json.dump({"kind": kind, "P": P, "D": D, "B": B, "input_f32": hexf(inp), "codes": codes,
                   "page": page.hex()}, f)
        f.write("\n")


if __name__ == "__main__":
    k = designed_key_input()
    page, codes = key_page(k, 8, 8, 2)
    write("key-designed-P8-D8-B2.json", "key", 8, 8, 2, k, page, codes)
    k = lcg_input(128, 64, 12345, 9)
    page, codes = key_page(k, 128, 64, 16)
    write("key-kitty-P128-D64-B16.json", "key", 128, 64, 16, k, page, codes)
    page, codes = key_page(k, 128, 64, 0)
    write("key-kivi-P128-D64-B0.json", "key", 128, 64, 0, k, page, codes)
    v = lcg_input(128, 64, 777, 0)
    page, codes = value_page(v, 128, 64)
    write("value-P128-D64.json", "value", 128, 64, 0, v, page, codes)
