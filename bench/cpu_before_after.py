#!/usr/bin/env python3
"""Writes the before/after JSON from the runs bench/cpu_before_after.sh leaves in its folder:
bench-{before,after}-R.json (bench --output), demo-{before,after}-R.json (the demo's
_kitty_summary.json) and kernels-after.json (bench --cpu-kernels scalar,vector).

Per figure the median over rounds is kept, the per-round values listed beside it; a ratio is
after over before for tokens/s and before over after for seconds (so > 1 is faster either way).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess


def load(path):
    with open(path) as f:
        return json.load(f)


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "simd": sorted(f for f in flags if f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl")),
        "java": java[0] if java else "unknown",
        "java_vm": java[-1] if java else "unknown",
        "os": platform.platform(),
        "load_average_at_end": list(os.getloadavg()),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", required=True)
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--before", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--after-dirty", type=int, default=0)
    p.add_argument("--command", required=True)
    p.add_argument("--bench-args", required=True)
    p.add_argument("--output", required=True)
    a = p.parse_args()
    rounds = range(1, a.rounds + 1)

    def bench_values(side, batch, key):
        vals = []
        for r in rounds:
            runs = load(os.path.join(a.runs, f"bench-{side}-{r}.json"))["runs"]
            vals.append(next(x[key] for x in runs if x["batch"] == batch))
        return vals

    batches = sorted({x["batch"] for x in load(os.path.join(a.runs, "bench-after-1.json"))["runs"]})
    bench = []
    for b in batches:
        row = {"batch": b}
        for key in ("gen_tok_per_s", "decode_tok_per_s", "prefill_tok_per_s"):
            before, after = bench_values("before", b, key), bench_values("after", b, key)
            mb, ma = statistics.median(before), statistics.median(after)
            row[key] = {"before": mb, "after": ma, "ratio": ma / mb, "before_rounds": before, "after_rounds": after}
        bench.append(row)

    def demo_values(side, key):
        return [load(os.path.join(a.runs, f"demo-{side}-{r}.json"))["throughput"][key] for r in rounds]

    demo = {}
    for key in ("generate_seconds", "wall_seconds"):
        before, after = demo_values("before", key), demo_values("after", key)
        mb, ma = statistics.median(before), statistics.median(after)
        demo[key] = {"before": mb, "after": ma, "ratio": mb / ma, "before_rounds": before, "after_rounds": after}
    first = load(os.path.join(a.runs, "demo-after-1.json"))
    demo["completion_tokens"] = first["throughput"]["completion_tokens"]
    demo["prompt_tokens"] = first["throughput"]["prompt_tokens"]
    demo["kv"] = first["kv"]

    kernels = load(os.path.join(a.runs, "kernels-after.json"))
    out = {
        "command": a.command,
        "before_commit": a.before,
        "after_commit": a.after,
        "after_uncommitted_changes": a.after_dirty,
        "machine": machine(),
        "rounds": a.rounds,
        "bench_command": "bin/kitty-spark " + a.bench_args,
        "demo_command": "bin/kitty-spark demo --output <fresh folder>",
        "bench": bench,
        "demo": demo,
        "kernels_after": {
            "command": "bin/kitty-spark " + a.bench_args + f" --cpu-kernels scalar,vector --repeat {a.rounds}",
            "ratio_of": kernels.get("ratio_of"),
            "ratios": kernels.get("ratios"),
            "runs": kernels["runs"],
        },
    }
    with open(a.output, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"bench: before {a.before[:7]}, after {a.after[:7]}, median of {a.rounds}")
    for row in bench:
        g = row["gen_tok_per_s"]
        print(f"  batch {row['batch']:>3}: {g['before']:8.1f} -> {g['after']:8.1f} generated tokens/s ({g['ratio']:.2f}x)")
    d = demo["generate_seconds"]
    print(f"  demo generate_seconds: {d['before']:.1f} -> {d['after']:.1f} s ({d['ratio']:.2f}x shorter)")
    for r in kernels.get("ratios") or []:
        print(f"  {kernels['ratio_of']} at batch {r['batch']}: {r['gen_tok_per_s']:.2f}x generated tokens/s")
    print("-> " + a.output)


if __name__ == "__main__":
    main()
