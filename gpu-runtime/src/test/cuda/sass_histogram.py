#!/usr/bin/env python3
"""Instruction histogram of one kernel's SASS: cuobjdump -sass -fun NAME x.cubin | sass_histogram.py"""
import collections
import re
import sys

ops = collections.Counter()
for line in sys.stdin:
    m = re.match(r"\s+/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*)(\.[A-Z0-9_.]+)?", line)
    if m:
        ops[m.group(1) + (m.group(2) or "")[:12]] += 1
total = sum(ops.values())
print(f"{total} instructions")
for op, n in ops.most_common(40):
    print(f"{n:6d} {op}")
