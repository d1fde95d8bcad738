#!/usr/bin/env python3
"""Llama 3.1 and Qwen3 checked against Hugging Face on the GPU machine, tokenizers included.

One command, on the GPU machine, with the device kit in the tree (bin/device-bundle, docs/device.md):

    PYTHONUNBUFFERED=1 python3 bench/hf_conformance.py --out "$OUT"

1. Tokenizers (data/tokenizers/qwen3, llama-3.1). Probe lines hold every code point whose
   Unicode 16.0 category differs from Java 17's and every post-Unicode-9.0 code point with
   normalization data (the tokenizer's two tables), in letter, digit and space contexts, plus
   the vendored reference texts. Hugging Face `tokenizers` encodes them (ids, and with
   add_special_tokens for prompt ids); `kitty tokenize` (the device kit) encodes the same file;
   every line is compared. Both speeds are measured on the reference texts x 20.
2. Models. Small random checkpoints built by transformers itself from the real configurations,
   scaled down in width and depth: Llama-3.1-8B's (rope_theta 500000, rope_scaling llama3
   factor 8 / low 1 / high 4 / original 8192, GQA, untied embeddings), Qwen3-8B's (q/k norm,
   untied) and a tied-embedding Qwen3 variant; saved with save_pretrained (safetensors, bf16).
   Documents are long enough that scored positions run well past 8192 (where llama3 scaling
   matters). The reference is transformers in float32 on the GPU: token ids, log p of each next
   token, argmax, and a 48-token greedy continuation from a 9000-token prompt. `kitty score`
   then runs on the CPU and on cuda:0 with --reference: argmax >= 99.5%, |nll delta| <= 0.002
   nats, greedy continuations identical (exit 3 when a threshold is missed).

Writes summary.md (the table for docs/results/), summary.json and conformance.log into --out.
Options: --skip-models / --skip-tokenizers; --devices cpu,cuda:0; --tokens N (scored tokens per
document, default 10240); --docs N (default 2); --tiny (a toy run on any machine with torch,
to test the script: short documents, small vocab-preserving models, CPU reference).
"""
import argparse
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TOKENIZERS = os.path.join(REPO, "data", "tokenizers")
TABLES = os.path.join(REPO, "gpu-runtime", "src", "main", "resources", "kittyspark", "runtime", "tokenizer")

# Real configurations (meta-llama/Llama-3.1-8B, Qwen/Qwen3-8B config.json), scaled down in width
# and depth only; head_dim 128 and the GQA group of 4 as in the real models.
LLAMA31_8B = dict(architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=128256, rms_norm_eps=1e-5,
                  rope_theta=500000.0, max_position_embeddings=131072, tie_word_embeddings=False,
                  rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                  bos_token_id=128000, eos_token_id=[128001, 128008, 128009], hidden_act="silu",
                  attention_bias=False, mlp_bias=False)
QWEN3_8B = dict(architectures=["Qwen3ForCausalLM"], model_type="qwen3", vocab_size=151936, rms_norm_eps=1e-6,
                rope_theta=1000000.0, max_position_embeddings=40960, tie_word_embeddings=False,
                bos_token_id=151643, eos_token_id=151645, hidden_act="silu", attention_bias=False)
SCALED = dict(hidden_size=512, intermediate_size=1024, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=1, head_dim=128)
MODELS = [
    ("llama-3.1-8b-scaled", "llama-3.1", LLAMA31_8B, {}),
    ("qwen3-8b-scaled", "qwen3", QWEN3_8B, {}),
    ("qwen3-8b-scaled-tied", "qwen3", QWEN3_8B, {"tie_word_embeddings": True}),
]
GREEDY_PROMPT = 9000
GREEDY_NEW = 48


def log(msg, fh=None):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    if fh:
        fh.write(line + "\n")
        fh.flush()


def kitty(args, logf, timeout=540):
    """Runs the device kit's CLI (bin/device-run); returns (exit code, stdout, stderr)."""
    cmd = [os.path.join(REPO, "bin", "device-run")] + args
    log("$ " + " ".join(cmd), logf)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    logf.write(p.stdout[-4000:] + p.stderr[-4000:] + "\n")
    return p.returncode, p.stdout, p.stderr


def reference_texts(name):
    out = []
    with lzma.open(os.path.join(TOKENIZERS, "reference-public.jsonl.xz"), "rt", encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            if o["tokenizer"] == name and "text" in o:
                out.append(o["text"])
    return out


def table_code_points():
    cps = set()
    with open(os.path.join(TABLES, "unicode-16.0-general-category-changes.txt")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            rng = line.split()[0].split("..")
            lo = int(rng[0], 16)
            hi = int(rng[-1], 16)
            cps.update(range(lo, hi + 1))
    with open(os.path.join(TABLES, "unicode-post-9.0-normalization-code-points.txt")) as f:
        for line in f:
            if not line.startswith("#") and line.strip():
                cps.add(int(line.split()[0], 16))
    return sorted(c for c in cps if not 0xD800 <= c <= 0xDFFF)


def probe_lines():
    """Each table code point next to letters, digits, spaces, itself and combining marks, 40 per line."""
    cps = table_code_points()
    lines = []
    for i in range(0, len(cps), 40):
        parts = []
        for c in cps[i:i + 40]:
            ch = chr(c)
            parts.append(f"a{ch}b 1{ch}2 {ch}{ch} x{ch}\u0301\u0323 {ch}\u0308 ")
        lines.append("".join(parts))
    return lines


def check_tokenizers(out, logf, results):
    from tokenizers import Tokenizer
    import tokenizers
    results["tokenizers_version"] = tokenizers.__version__
    work = tempfile.mkdtemp(prefix="kitty-tok-")
    for name in ["qwen3", "llama-3.1"]:
        with lzma.open(os.path.join(TOKENIZERS, name, "tokenizer.json.xz"), "rt", encoding="utf-8") as f:
            hf = Tokenizer.from_str(f.read())
        texts = probe_lines() + reference_texts(name)
        inp = os.path.join(work, f"{name}-probe.jsonl")
        with open(inp, "w", encoding="utf-8") as f:
            for i, t in enumerate(texts):
                f.write(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n")
        outp = os.path.join(work, f"{name}-probe-out.jsonl")
        code, _, err = kitty(["tokenize", "--tokenizer", os.path.join(TOKENIZERS, name), "--input", inp,
                              "--output", outp], logf)
        ours = [json.loads(l) for l in open(outp, encoding="utf-8")] if code == 0 else []
        ids_ok = prompt_ok = 0
        bad = []
        for i, t in enumerate(texts):
            ref = hf.encode(t, add_special_tokens=False).ids
            ref_prompt = hf.encode(t, add_special_tokens=True).ids
            o = ours[i] if i < len(ours) else {}
            ids_ok += o.get("ids") == ref
            prompt_ok += o.get("prompt_ids") == ref_prompt
            if o.get("ids") != ref and len(bad) < 5:
                bad.append(i)
        results[f"tokenizer_{name}"] = {"lines": len(texts), "probe_lines": len(probe_lines()),
                                        "ids_exact": ids_ok, "prompt_ids_exact": prompt_ok, "first_bad_lines": bad}
        log(f"{name}: ids exact {ids_ok}/{len(texts)}, prompt ids exact {prompt_ok}/{len(texts)}", logf)
        # Speed on the reference texts x 20 (HF: encode_batch on all cores, and one text at a time).
        bench = reference_texts(name) * 20
        binp = os.path.join(work, f"{name}-bench.jsonl")
        with open(binp, "w", encoding="utf-8") as f:
            for i, t in enumerate(bench):
                f.write(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n")
        t0 = time.time()
        n_batch = sum(len(e.ids) for e in hf.encode_batch(bench, add_special_tokens=False))
        hf_batch = n_batch / (time.time() - t0)
        t0 = time.time()
        n_one = sum(len(hf.encode(t, add_special_tokens=False).ids) for t in bench[:200])
        hf_one = n_one / (time.time() - t0)
        speeds = {}
        for threads in ["0", "1"]:
            code, _, err = kitty(["tokenize", "--tokenizer", os.path.join(TOKENIZERS, name), "--input", binp,
                                  "--output", os.path.join(work, "bench-out.jsonl"), "--threads", threads], logf)
            m = re.search(r"([0-9.]+) tokens/s", err)
            speeds[threads] = float(m.group(1)) if m else None
        results[f"tokenizer_{name}"]["speed"] = {"hf_encode_batch_tokens_per_s": round(hf_batch),
                                                 "hf_encode_one_thread_tokens_per_s": round(hf_one),
                                                 "kitty_tokenize_all_cores_tokens_per_s": speeds["0"],
                                                 "kitty_tokenize_one_thread_tokens_per_s": speeds["1"],
                                                 "tokens": n_batch}
        log(f"{name} speed: {results[f'tokenizer_{name}']['speed']}", logf)
    shutil.rmtree(work, ignore_errors=True)


def build_model(dirpath, tokenizer, base, extra, tiny, seed):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    cfg = dict(base)
    cfg.update(SCALED)
    cfg.update(extra)
    if tiny:
        cfg.update(hidden_size=128, intermediate_size=256, num_hidden_layers=1, num_attention_heads=2,
                   num_key_value_heads=1, head_dim=64)
    model_type = cfg.pop("model_type")
    config = AutoConfig.for_model(model_type, **{k: v for k, v in cfg.items() if k != "architectures"})
    config.architectures = cfg["architectures"]
    # Wider initial weights than transformers' 0.02 so a random model has clear favourites (a near-uniform
    # next-token distribution would make argmax agreement a coin toss between equal logits).
    config.initializer_range = 0.06
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.to(torch.bfloat16).save_pretrained(dirpath, safe_serialization=True)
    with lzma.open(os.path.join(TOKENIZERS, tokenizer, "tokenizer.json.xz"), "rb") as src, \
            open(os.path.join(dirpath, "tokenizer.json"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(os.path.join(TOKENIZERS, tokenizer, "tokenizer_config.json"), dirpath)
    return config


def make_documents(hf_tok, tokenizer, n_docs, n_tokens):
    """Documents of at least n_tokens ids, each the reference texts concatenated from a different start."""
    texts = reference_texts(tokenizer)
    docs = []
    for d in range(n_docs):
        parts = []
        count = 0
        k = d * 7
        while count < n_tokens + 16:
            t = texts[k % len(texts)]
            parts.append(t)
            count += len(hf_tok.encode(t, add_special_tokens=False).ids)
            k += 1
        docs.append({"id": f"{tokenizer}-long-{d}", "text": "\n\n".join(parts)})
    return docs


def reference(model_dir, docs, hf_tok, n_tokens, device, tiny):
    import torch
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device).eval()
    out = []
    greedy_prompt = min(GREEDY_PROMPT, n_tokens - 1) if not tiny else n_tokens // 2
    for d in docs:
        ids = hf_tok.encode(d["text"], add_special_tokens=False).ids[:n_tokens]
        x = torch.tensor([ids], device=device)
        with torch.no_grad():
            logits = model(x).logits[0].float()
            logp = torch.log_softmax(logits, dim=-1)
            nxt = logp[:-1].gather(1, x[0, 1:, None])[:, 0]
            argmax = logits.argmax(dim=-1)
            gen = model.generate(x[:, :greedy_prompt], max_new_tokens=GREEDY_NEW, do_sample=False,
                                 pad_token_id=0)[0, greedy_prompt:]
        out.append({"id": d["id"], "n_tokens": len(ids), "token_ids": ids, "nll_mean": float(-nxt.mean()),
                    "next_logprob": [float(v) for v in nxt.cpu()], "argmax": [int(v) for v in argmax.cpu()],
                    "greedy_prompt_len": greedy_prompt, "greedy48": [int(v) for v in gen.cpu()]})
        del logits, logp
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return out


def check_models(out, logf, results, args):
    import torch
    import transformers
    from tokenizers import Tokenizer
    results["transformers_version"] = transformers.__version__
    results["torch_version"] = torch.__version__
    ref_device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    results["reference_device"] = ref_device
    work = tempfile.mkdtemp(prefix="kitty-models-")
    for k, (name, tokenizer, base, extra) in enumerate(MODELS):
        t0 = time.time()
        mdir = os.path.join(work, name)
        build_model(mdir, tokenizer, base, extra, args.tiny, seed=k + 1)
        with lzma.open(os.path.join(TOKENIZERS, tokenizer, "tokenizer.json.xz"), "rt", encoding="utf-8") as f:
            hf_tok = Tokenizer.from_str(f.read())
        docs = make_documents(hf_tok, tokenizer, args.docs, args.tokens)
        docs_file = os.path.join(work, f"{name}-docs.jsonl")
        with open(docs_file, "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        ref_file = os.path.join(work, f"{name}-hfref.json")
        with open(ref_file, "w") as f:
            json.dump({"model": name, "transformers": transformers.__version__, "dtype": "float32",
                       "docs": reference(mdir, docs, hf_tok, args.tokens, ref_device, args.tiny)}, f)
        log(f"{name}: checkpoint and reference in {time.time() - t0:.0f} s", logf)
        entry = {"tokenizer": tokenizer, "tie_word_embeddings": bool(extra.get("tie_word_embeddings", False)),
                 "docs": args.docs, "scored_tokens_per_doc": args.tokens}
        for dev in args.devices:
            t1 = time.time()
            code, stdout, _ = kitty(["score", "--model", mdir, "--device", dev, "--input", docs_file,
                                     "--output", os.path.join(work, f"{name}-{dev.replace(':', '')}.jsonl"),
                                     "--reference", ref_file, "--max-tokens", str(args.tokens)], logf)
            summary = stdout.strip().splitlines()[-1] if stdout.strip() else "(no summary)"
            entry[dev] = {"exit": code, "pass": code == 0, "summary": summary, "seconds": round(time.time() - t1, 1)}
            log(f"{name} on {dev}: exit {code}: {summary}", logf)
        results[name] = entry
    shutil.rmtree(work, ignore_errors=True)


def write_summary(out, results):
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = ["# Hugging Face conformance on the GPU machine (bench/hf_conformance.py)", ""]
    lines.append(f"transformers {results.get('transformers_version')}, torch {results.get('torch_version')}, "
                 f"tokenizers {results.get('tokenizers_version')}, reference on {results.get('reference_device')}, "
                 f"commit {results.get('commit')}")
    lines.append("")
    for name in ["qwen3", "llama-3.1"]:
        t = results.get(f"tokenizer_{name}")
        if t:
            s = t.get("speed", {})
            lines.append(f"- tokenizer {name}: ids exact {t['ids_exact']}/{t['lines']} ({t['probe_lines']} Unicode probe "
                         f"lines + reference texts), prompt ids exact {t['prompt_ids_exact']}/{t['lines']}; "
                         f"kitty tokenize {s.get('kitty_tokenize_all_cores_tokens_per_s')} tokens/s all cores, "
                         f"{s.get('kitty_tokenize_one_thread_tokens_per_s')} one thread; HF encode_batch "
                         f"{s.get('hf_encode_batch_tokens_per_s')}, one at a time {s.get('hf_encode_one_thread_tokens_per_s')}")
    lines += ["", "| model | device | result | score summary |", "|---|---|---|---|"]
    for name, _, _, _ in MODELS:
        e = results.get(name)
        if not e:
            continue
        for dev, r in e.items():
            if isinstance(r, dict) and "exit" in r:
                lines.append(f"| {name} | {dev} | {'PASS' if r['pass'] else 'FAIL (exit %d)' % r['exit']} | {r['summary']} |")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--devices", default="cpu,cuda:0")
    p.add_argument("--tokens", type=int, default=None)
    p.add_argument("--docs", type=int, default=2)
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--skip-models", action="store_true")
    p.add_argument("--skip-tokenizers", action="store_true")
    args = p.parse_args(argv)
    args.devices = [d for d in args.devices.split(",") if d]
    if args.tokens is None:
        args.tokens = 256 if args.tiny else 10240
    os.makedirs(args.out, exist_ok=True)
    results = {}
    try:
        results["commit"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                           text=True).stdout.strip() or open(os.path.join(REPO, ".devbundle", "kit", "COMMIT")).read().strip()
    except OSError:
        results["commit"] = "unknown"
    failed = False
    with open(os.path.join(args.out, "conformance.log"), "w") as logf:
        for skip, step in ((args.skip_tokenizers, lambda: check_tokenizers(args.out, logf, results)),
                           (args.skip_models, lambda: check_models(args.out, logf, results, args))):
            if skip:
                continue
            try:
                step()
            except Exception as e:  # record it and still write what was measured
                import traceback
                log("step failed: " + repr(e), logf)
                logf.write(traceback.format_exc())
                results.setdefault("errors", []).append(repr(e))
                failed = True
    write_summary(args.out, results)
    for name, _, _, _ in MODELS:
        for dev in args.devices:
            r = results.get(name, {}).get(dev)
            failed |= r is not None and not r["pass"]
    for name in ["qwen3", "llama-3.1"]:
        t = results.get(f"tokenizer_{name}")
        failed |= t is not None and (t["ids_exact"] != t["lines"] or t["prompt_ids_exact"] != t["lines"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
