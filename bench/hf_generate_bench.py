#!/usr/bin/env python3
"""Hugging Face transformers baseline for the kitty-spark generation benchmark.

Builds a Llama-3-8B-shaped LlamaForCausalLM with random bf16 weights directly on the GPU (no
download: the GPU machine reaches nothing), then for each batch size times

  * prefill: one forward over the prompts (logits of the last position only, as generate does;
    the median of 3 after one untimed);
  * generate(): greedy, prompt 2048, exactly 128 new tokens (min_new_tokens = max_new_tokens,
    so no sequence stops early on a random model);

and measures the two ceilings of the machine: device copy bandwidth (a 4 GiB copy, bytes read
plus written) and bf16 matmul throughput (8192^3). Writes JSON shaped like
../shared/reference/hf-transformers-llama8b-h100.json, plus batch 1 and matmul_tflops.

  python3 bench/hf_generate_bench.py --batch 1,16,32,64 --out out/hf.json
  python3 bench/hf_generate_bench.py --tiny --out /tmp/hf-tiny.json     # seconds, CPU or GPU

Needs torch and transformers (present on the GPU machine).
"""
import argparse
import inspect
import json
import sys
import time

# Llama-3-8B (meta-llama/Meta-Llama-3-8B config.json); kittyspark.runtime.testing.ModelShapes (gpu-runtime test fixtures) "llama3-8b".
LLAMA3_8B = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                 num_key_value_heads=8, head_dim=128, vocab_size=128256, rms_norm_eps=1e-5,
                 max_position_embeddings=8192, tie_word_embeddings=False, rope_theta=500000.0)
# A toy shape that runs in seconds on a CPU: checks the script, not the machine.
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, vocab_size=256, rms_norm_eps=1e-5,
            max_position_embeddings=512, tie_word_embeddings=False, rope_theta=500000.0)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", default="1,16,32,64", help="comma-separated batch sizes (default 1,16,32,64)")
    p.add_argument("--prompt", type=int, default=None, help="prompt tokens (default 2048; 32 with --tiny)")
    p.add_argument("--gen", type=int, default=None, help="new tokens per sequence (default 128; 8 with --tiny)")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--tiny", action="store_true", help="a toy shape and small ceilings, to test the script")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    p.add_argument("--copy-gib", type=float, default=None, help="copy-bandwidth buffer size (default 4; 0.0625 with --tiny)")
    p.add_argument("--matmul-n", type=int, default=None, help="square bf16 matmul size (default 8192; 256 with --tiny)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    a.batches = [int(b) for b in a.batch.split(",") if b.strip()]
    if not a.batches or min(a.batches) < 1:
        p.error("--batch needs positive batch sizes")
    a.prompt = a.prompt or (32 if a.tiny else 2048)
    a.gen = a.gen or (8 if a.tiny else 128)
    a.copy_gib = a.copy_gib or (0.0625 if a.tiny else 4.0)
    a.matmul_n = a.matmul_n or (256 if a.tiny else 8192)
    return a


class Clock:
    """Wall time of device work: synchronize before reading the host clock."""

    def __init__(self, torch, device):
        self.torch, self.cuda = torch, device.type == "cuda"

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def time(self, fn, repeat=1):
        """Median seconds of `repeat` calls (after the caller's warm-up)."""
        times = []
        for _ in range(repeat):
            self.sync()
            t0 = time.perf_counter()
            fn()
            self.sync()
            times.append(time.perf_counter() - t0)
        times.sort()
        return times[len(times) // 2]


def warm_up(clock, fn, seconds=1.0):
    """Runs fn for about `seconds`: the GPU's clocks ramp up under load, and one-time costs go."""
    clock.sync()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        clock.sync()


def copy_bandwidth_gbs(torch, device, clock, gib):
    n = int(gib * (1 << 30))
    src = torch.randint(0, 255, (n,), dtype=torch.uint8, device=device)  # never time zeros
    dst = torch.empty_like(src)
    warm_up(clock, lambda: dst.copy_(src))
    secs = clock.time(lambda: dst.copy_(src), repeat=20)
    del src, dst
    return 2 * n / secs / 1e9  # bytes read + bytes written


def matmul_tflops(torch, device, clock, n):
    dtype = torch.bfloat16
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    warm_up(clock, lambda: a @ b)
    secs = clock.time(lambda: a @ b, repeat=20)
    del a, b
    return 2 * n ** 3 / secs / 1e12


def build_model(torch, transformers, shape, device):
    base = {k: v for k, v in shape.items() if k != "rope_theta"}
    base.update(bos_token_id=1, eos_token_id=2, pad_token_id=0, attn_implementation="sdpa")
    # transformers 5 keeps RoPE settings in rope_parameters; 4.x takes rope_theta.
    if "rope_parameters" in inspect.signature(transformers.LlamaConfig.__init__).parameters:
        config = transformers.LlamaConfig(**base, rope_parameters={"rope_type": "default", "rope_theta": shape["rope_theta"]})
    else:
        config = transformers.LlamaConfig(**base, rope_theta=shape["rope_theta"])
    # Create the weights in bf16 on the device directly: an 8B model in fp32 would need 32 GB first.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            model = transformers.LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    assert next(model.parameters()).dtype == torch.bfloat16, "weights must be bf16"
    return model, params


def prefill(model, ids, mask):
    # The forward generate() runs first: the whole prompt, logits of the last position only.
    try:
        return model(input_ids=ids, attention_mask=mask, use_cache=True, logits_to_keep=1)
    except TypeError:  # transformers < 4.50 spelled it num_logits_to_keep
        return model(input_ids=ids, attention_mask=mask, use_cache=True, num_logits_to_keep=1)


def run_batch(torch, model, vocab, batch, prompt, gen, device, clock, seed):
    g = torch.Generator(device="cpu").manual_seed(seed + batch)
    ids = torch.randint(3, vocab, (batch, prompt), generator=g).to(device)  # skip pad/bos/eos ids
    mask = torch.ones_like(ids)
    if clock.cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    with torch.inference_mode():
        prefill(model, ids, mask)  # the first forward of a new shape pays one-time costs
        prefill_s = clock.time(lambda: prefill(model, ids, mask), repeat=3)
        out = {}

        def generate():
            out["ids"] = model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                        max_new_tokens=gen, min_new_tokens=gen, pad_token_id=0)

        generate_s = clock.time(generate)
    new_tokens = out["ids"].shape[1] - prompt
    if new_tokens != gen:
        raise RuntimeError(f"generate() made {new_tokens} new tokens, expected {gen}")
    row = {"batch": batch, "prompt": prompt, "gen": gen, "prefill_s": round(prefill_s, 4),
           "generate_s": round(generate_s, 4), "gen_tok_per_s": round(batch * gen / generate_s, 1),
           "decode_tok_per_s_excl_prefill": round(batch * gen / max(generate_s - prefill_s, 1e-9), 1)}
    if clock.cuda:
        row["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / (1 << 30), 1)
    return row


def main(argv):
    args = parse_args(argv)
    import torch
    import transformers

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    clock = Clock(torch, device)
    torch.manual_seed(args.seed)
    result = {"gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "shape": "tiny" if args.tiny else "llama3-8b",
              "torch": torch.__version__, "transformers": transformers.__version__}

    t0 = time.perf_counter()
    result["copy_bw_gbs"] = copy_bandwidth_gbs(torch, device, clock, args.copy_gib)
    result["matmul_tflops"] = matmul_tflops(torch, device, clock, args.matmul_n)
    print(f"copy {result['copy_bw_gbs']:.0f} GB/s, bf16 matmul {result['matmul_tflops']:.1f} TFLOP/s "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)

    shape = TINY if args.tiny else LLAMA3_8B
    t0 = time.perf_counter()
    model, params = build_model(torch, transformers, shape, device)
    result["params"] = params
    print(f"model: {params / 1e9:.3f} B parameters, bf16, on {device} ({time.perf_counter() - t0:.1f} s)", flush=True)

    # Warm-up: kernels, allocator and generate()'s set-up stay out of the timings.
    run_batch(torch, model, shape["vocab_size"], 1, args.prompt, 2, device, clock, args.seed)

    rows = []
    for b in args.batches:
        try:
            row = run_batch(torch, model, shape["vocab_size"], b, args.prompt, args.gen, device, clock, args.seed)
        except torch.cuda.OutOfMemoryError as e:  # record it and go on with the other sizes
            row = {"batch": b, "prompt": args.prompt, "gen": args.gen, "error": "out of memory: " + str(e).split("\n")[0]}
        rows.append(row)
        print(json.dumps(row), flush=True)
        result["hf_llama8b_bf16_fp16kv"] = rows
        with open(args.out, "w") as f:  # after every batch: a killed run keeps what it measured
            json.dump(result, f, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
