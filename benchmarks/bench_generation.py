"""Generation throughput: batch 1 vs batched, fp32 vs bf16, transformers' sampler vs ovid's,
same run, median of several runs.

    python benchmarks/bench_generation.py --model smollm2-135m

Configurations: dtype:batch:sampler (--configs); the first is the baseline (batch-1 float32 with
transformers' own sampler: plain `model.generate`). Prompts are the first 32 tokens of the human
texts shipped with ovid; every configuration samples top-k 40 for exactly --max-tokens new tokens
(no end-of-text token, so all do the same work). Aggregate tokens/s = new tokens of the whole
batch / wall time. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ovid.corpus import read_corpus  # noqa: E402
from ovid.generate import Decoding  # noqa: E402
from ovid.generate.sampler import sampling_kwargs  # noqa: E402
from ovid.generate.sampling import left_pad  # noqa: E402
from ovid.models import document_token_id, load_causal_lm  # noqa: E402

from _machine import describe  # noqa: E402


def run_once(model, prompts, max_tokens: int, seed: int, sampler: str) -> tuple[int, float]:
    ids, mask = left_pad(prompts, pad_id=0)
    no_eos = copy.deepcopy(model.generation_config)
    no_eos.eos_token_id = None  # every row generates exactly max_tokens
    decoding = Decoding("top-k")
    kwargs = sampling_kwargs(decoding) if sampler == "ovid" else decoding.generate_kwargs()
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_tokens, pad_token_id=0,
                             generation_config=no_eos, **kwargs)
    dt = time.perf_counter() - t0
    assert out.shape[1] - ids.shape[1] == max_tokens
    return (out.shape[1] - ids.shape[1]) * out.shape[0], dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--configs", default="float32:1:transformers,float32:1:ovid,float32:64:ovid,"
                    "bfloat16:1:ovid,bfloat16:128:transformers,bfloat16:64:ovid,bfloat16:128:ovid,bfloat16:256:ovid")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    texts = [r.text for r in read_corpus("ovid:human-demo")]
    doc = document_token_id(args.model)
    configs = [(d, int(b), s) for d, b, s in (c.split(":") for c in args.configs.split(","))]
    results = []
    for dtype, bs, sampler in configs:
        model, tok = load_causal_lm(args.model, dtype)
        prompts = [[doc] + tok(texts[i % len(texts)], add_special_tokens=False).input_ids[:32] for i in range(bs)]
        run_once(model, prompts[:1], 4, 0, sampler)  # warm-up: first-call allocations and kernel choice
        rates = []
        for r in range(args.repeats):
            n, dt = run_once(model, prompts, args.max_tokens, r, sampler)
            rates.append(n / dt)
        row = {"dtype": dtype, "batch": bs, "sampler": sampler, "tokens_per_s": round(statistics.median(rates), 1),
               "runs": [round(x, 1) for x in rates]}
        results.append(row)
        print(f"{dtype:>9} batch {bs:>3} {sampler:>12}: {row['tokens_per_s']:8.1f} tokens/s (runs {row['runs']})",
              flush=True)
    base = results[0]["tokens_per_s"]
    for r in results:
        r["speedup_vs_first"] = round(r["tokens_per_s"] / base, 2)
    print(json.dumps({"model": args.model, "max_tokens": args.max_tokens, "repeats": args.repeats,
                      "machine": describe(), "results": results}))


if __name__ == "__main__":
    main()
