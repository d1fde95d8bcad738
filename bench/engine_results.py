#!/usr/bin/env python3
"""Builds docs/bench/engine-h200.json from one device-bench call's outputs.

  python3 bench/engine_results.py --bench engine/gpu-bench.json --hf hf-transformers.json \
      --commit <kit commit> --out docs/bench/engine-h200.json

The end-to-end roofline of a run: the prompt's FLOPs at the torch bf16 matmul peak measured in
the same call plus, for every decode step, the weight and KV bytes at the measured copy
bandwidth (the decode rooflines bench-gpu prints, interpolated by context).
"""
import argparse
import json


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", required=True)
    p.add_argument("--hf", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    b = json.load(open(a.bench))
    hf = json.load(open(a.hf))
    params = hf["params"]
    peak = hf["matmul_tflops"] * 1e12
    bw = hf["copy_bw_gbs"] * 1e9
    hf_tps = {r["batch"]: r["gen_tok_per_s"] for r in hf.get("hf_llama8b_bf16_fp16kv", [])}
    e2e = []
    for g in b["generate"]:
        batch, prompt = g["batch"], 2048
        new = g["generated"] // batch
        prefill_s = 2.0 * params * prompt * batch / peak
        # decode: weights once per step plus every sequence's KV (fp16, llama3-8b: 32 layers x 8 kv heads x 128 x 2 x 2 bytes)
        kv_per_token = 32 * 8 * 128 * 2 * 2
        decode_s = sum((2.0 * params + batch * (prompt + t) * kv_per_token) / bw for t in range(new))
        roof = batch * new / (prefill_s + decode_s)
        e2e.append({"batch": batch, "prompt": prompt, "new": new, "tokens_per_s": round(g["tokens_per_s"], 1),
                    "roofline_tokens_per_s": round(roof, 1), "x_roofline": round(roof / g["tokens_per_s"], 2),
                    "transformers_tokens_per_s": hf_tps.get(batch)})
    out = {
        "commit": a.commit, "gpu": b["gpu"], "shape": b["shape"], "copy_gbs": round(hf["copy_bw_gbs"], 1),
        "torch_matmul_tflops": round(hf["matmul_tflops"], 1),
        "prefill": {"tokens": b["prefill"]["tokens"], "ms": round(b["prefill"]["ms"], 2), "tflops": round(b["prefill"]["tflops"], 1),
                    "pct_of_torch_matmul": round(100 * b["prefill"]["tflops"] * 1e12 / peak, 1),
                    "transformers_ms": round(1000 * hf["hf_llama8b_bf16_fp16kv"][0]["prefill_s"], 1)},
        "decode": [{"batch": d["batch"], "context": d["context"], "step_ms": round(d["step_ms"], 2),
                    "roofline_ms": round(d["roofline_ms"], 2), "x_roofline": round(d["x_roofline"], 2)}
                   for d in b["decode"] if d.get("fits", True) and "step_ms" in d],
        "e2e": e2e,
        "gemm_impl": {f'{s["gemm"]} {s["m"]}x{s["n"]}x{s["k"]}': s["kernel"] for s in b["gemm_shapes"]},
    }
    json.dump(out, open(a.out, "w"), indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
