"""Generation throughput: batch 1 vs batched, fp32 vs bf16, same run, median of several runs.

    python benchmarks/bench_generation.py --model smollm2-135m --batch-sizes 1,16,64 --dtypes float32,bfloat16

Prompts are the first 32 tokens of the human texts shipped with ovid; every configuration
samples top-k 40 for exactly --max-tokens new tokens (EOS ignored) so all do the same work.
Aggregate tokens/s = new tokens of the whole batch / wall time. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe  # noqa: E402

from ovid.corpus import read_corpus  # noqa: E402
from ovid.generate import Decoding  # noqa: E402
from ovid.generate.sampling import left_pad  # noqa: E402
from ovid.models import document_token_id, load_causal_lm  # noqa: E402


def run_once(model, prompts, max_tokens: int, seed: int) -> tuple[int, float]:
    ids, mask = left_pad(prompts, pad_id=0)
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_tokens,
                             min_new_tokens=max_tokens, pad_token_id=0,
                             **Decoding("top-k").generate_kwargs())
    dt = time.perf_counter() - t0
    return (out.shape[1] - ids.shape[1]) * out.shape[0], dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--batch-sizes", default="1,16,64")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    texts = [r.text for r in read_corpus("ovid:human-demo")]
    results = []
    for dtype in args.dtypes.split(","):
        model, tok = load_causal_lm(args.model, dtype)
        doc = document_token_id(args.model)
        for bs in (int(b) for b in args.batch_sizes.split(",")):
            prompts = [[doc] + tok(texts[i % len(texts)], add_special_tokens=False).input_ids[:32]
                       for i in range(bs)]
            run_once(model, prompts[:1], 4, 0)  # warm-up: first-call allocations and kernel choice
            rates = []
            for r in range(args.repeats):
                n, dt = run_once(model, prompts, args.max_tokens, r)
                rates.append(n / dt)
            row = {"dtype": dtype, "batch": bs, "tokens_per_s": round(statistics.median(rates), 1),
                   "runs": [round(x, 1) for x in rates]}
            results.append(row)
            print(f"{dtype:>9} batch {bs:>3}: {row['tokens_per_s']:8.1f} tokens/s (runs {row['runs']})",
                  flush=True)
    base = next(r["tokens_per_s"] for r in results if r["batch"] == 1 and r["dtype"] == "float32") \
        if any(r["batch"] == 1 and r["dtype"] == "float32" for r in results) else None
    for r in results:
        r["speedup_vs_batch1_fp32"] = round(r["tokens_per_s"] / base, 2) if base else None
    print(json.dumps({"model": args.model, "max_tokens": args.max_tokens, "repeats": args.repeats,
                      "machine": describe(), "results": results}))


if __name__ == "__main__":
    main()
