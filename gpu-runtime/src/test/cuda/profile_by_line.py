#!/usr/bin/env python3
"""Sums ncu's per-instruction source counters (profile_i8_source.sh) per CUDA line and per opcode.

    profile_by_line.py SOURCE.csv DISASM.sass KERNEL

SOURCE.csv: `ncu --page source --csv --print-source sass` of one kernel; DISASM.sass: `nvdisasm -g -c`
of a -lineinfo cubin of the same sources, whose instruction offsets give the CUDA line of each. The
opcode at each offset is compared between the two (the driver's PTX JIT and nvcc's ptxas may differ);
the per-line table is printed only if they agree."""
import collections
import csv
import re
import sys


def num(s):
    s = (s or "").replace(",", "").strip()
    try:
        return float(s)
    except ValueError:
        return 0.0


def read_counters(path):
    with open(path, newline="") as f:
        text = f.read()
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if "Address" in l or "Source" in l)
    rows = list(csv.DictReader(lines[start:]))
    cols = rows[0].keys()
    addr = next(c for c in cols if "Address" in c)
    src = next(c for c in cols if c.strip().lower() in ("source", "sass"))
    execd = next(c for c in cols if c.startswith("Instructions Executed"))
    stall = next(c for c in cols if c.startswith("Warp Stall Sampling (All"))
    out = []
    for r in rows:
        a = r[addr].strip()
        if not a:
            continue
        out.append((int(a, 16), r[src].strip(), num(r[execd]), num(r[stall])))
    base = min(o[0] for o in out)
    return [(a - base, s, e, st) for a, s, e, st in out]


def read_disasm(path, kernel):
    lines, cur, inside = {}, None, False
    file_line = re.compile(r'//## File "([^"]+)", line (\d+)')
    ins = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(.*?);")
    with open(path) as f:
        for l in f:
            if l.startswith(".text.") or "\t.text." in l or l.strip().startswith(".section\t.text."):
                inside = kernel in l and (".text." + kernel) in l
            if not inside:
                continue
            m = file_line.search(l)
            if m:
                cur = m.group(1).rsplit("/", 1)[-1] + ":" + m.group(2)
                continue
            m = ins.search(l)
            if m:
                lines[int(m.group(1), 16)] = (cur, m.group(2).split()[0] if m.group(2) else "")
    return lines


def opcode(sass):
    t = sass.split()
    while t and (t[0].startswith("@") or t[0].startswith("{")):
        t = t[1:]
    return t[0] if t else ""


def main():
    counters = read_counters(sys.argv[1])
    total_e = sum(c[2] for c in counters)
    total_s = sum(c[3] for c in counters)
    by_op = collections.defaultdict(lambda: [0.0, 0.0])
    for _, s, e, st in counters:
        o = opcode(s).split(".")[0]
        by_op[o][0] += e
        by_op[o][1] += st
    print(f"{len(counters)} instructions, {total_e:.0f} warp instructions executed, {total_s:.0f} stall samples")
    print("\nby opcode: executed (share), stall samples (share)")
    for o, (e, st) in sorted(by_op.items(), key=lambda kv: -kv[1][0])[:40]:
        print(f"  {o:<10} {e:12.0f} {100 * e / total_e:5.1f}%  {st:9.0f} {100 * st / max(total_s, 1):5.1f}%")
    dis = read_disasm(sys.argv[2], sys.argv[3])
    if not dis:
        print("\nno disassembly for", sys.argv[3])
        return
    same = sum(1 for a, s, _, _ in counters if a in dis and dis[a][1].split(".")[0] == opcode(s).split(".")[0])
    print(f"\nopcodes agreeing with the -lineinfo cubin at the same offset: {same} of {len(counters)}")
    if same < 0.95 * len(counters):
        print("(the JIT's SASS differs: no per-line table)")
        return
    by_line = collections.defaultdict(lambda: [0.0, 0.0])
    for a, s, e, st in counters:
        by_line[dis.get(a, ("?", ""))[0]][0] += e
        by_line[dis.get(a, ("?", ""))[0]][1] += st
    print("\nby CUDA line: executed (share), stall samples (share)")
    for k, (e, st) in sorted(by_line.items(), key=lambda kv: -kv[1][0])[:80]:
        print(f"  {str(k):<34} {e:12.0f} {100 * e / total_e:5.1f}%  {st:9.0f} {100 * st / max(total_s, 1):5.1f}%")


if __name__ == "__main__":
    main()
