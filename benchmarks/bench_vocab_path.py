"""A large vocabulary's scoring path: three engines in the same run, on the same texts.

    python benchmarks/bench_vocab_path.py --model gemma3-270m --texts 60 --runs 3

- before: the engine before its fast paths (the code that measured Gemma 3 at ~200 tokens/s):
  the whole model's logits for a padded batch, the batch capped at ~1 GB of logits, then each
  statistic from detect/stats.py per row;
- blocked: the output layer at scored positions only, applied to blocks of positions small
  enough to hold their (positions x vocabulary) logits, statistics fused per block;
- tiled: the output layer applied in (1,024 positions x 8,192 vocabulary) tiles with the
  statistics accumulated across tiles (detect/tiled_stats.py), the default now.

One engine (bf16 where native, decoder blocks compiled, warmed up before timing) runs all three,
so the body is the same; rounds alternate the paths. Figures are medians; the speedups are
medians of per-round ratios. AUROC: Fast-DetectGPT over the texts (human originals and their
GPT-2-XL continuations of ../shared/data/fastdetectgpt/xsum_gpt2-xl.raw_data.json).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scoring import load_texts  # noqa: E402

from ovid.detect.engine import EngineConfig, ScoringEngine  # noqa: E402
from ovid.detect.features import fast_detectgpt  # noqa: E402
from ovid.detect.stats import token_statistics  # noqa: E402
from ovid.metrics import auroc  # noqa: E402
from ovid.padding import pad_rows  # noqa: E402

from _machine import describe  # noqa: E402

BEFORE_MAX_LOGITS = 250_000_000  # the old engine's cap: ~1 GB of float32 logits per batch


def before_forward(engine: ScoringEngine):
    """The old engine's per-batch step (full logits, per-row reference statistics)."""
    def forward(rows, skip):
        ids, mask = pad_rows(rows, 0)
        logits = engine.model(input_ids=ids, attention_mask=mask, use_cache=False).logits
        out = []
        for i, r in enumerate(rows):
            s = slice(skip[i], len(r) - 1)
            stats = token_statistics(logits[i:i + 1, s], ids[i:i + 1, 1:][:, s])
            out.append({k: v[0].float().numpy() for k, v in stats.items()})
        return out
    return forward


def run_path(engine: ScoringEngine, path: str, texts: list[str]):
    engine.memory.clear()
    fast_forward, budget, tiled = engine._forward, engine.budget, engine.logits.tiled
    try:
        if path == "before":
            engine._forward = before_forward(engine)
            engine.budget = max(engine.window, min(budget, BEFORE_MAX_LOGITS // engine.model.config.vocab_size))
        engine.logits.tiled = tiled and path == "tiled"
        t0 = time.perf_counter()
        stats = engine._compute(texts, progress=False)
        return stats, time.perf_counter() - t0
    finally:
        engine._forward, engine.budget, engine.logits.tiled = fast_forward, budget, tiled


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gemma3-270m")
    ap.add_argument("--texts", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--paths", default="before,blocked,tiled")
    args = ap.parse_args(argv)
    paths = args.paths.split(",")
    texts, labels = load_texts(args.texts)
    machine = describe()
    print(machine, flush=True)
    engine = ScoringEngine(EngineConfig(model=args.model, compile="always"))
    with torch.inference_mode():
        for p in paths:
            run_path(engine, p, texts[:4])  # compile and warm every path
        rounds, scores = [], {}
        for r in range(args.runs):
            row = {}
            for p in paths:
                stats, secs = run_path(engine, p, texts)
                n = sum(len(s) for s in stats)
                row[p] = n / secs
                scores[p] = np.array([fast_detectgpt(s) for s in stats])
            rounds.append(row)
            print(f"round {r + 1}: {n} tokens, " + ", ".join(f"{p} {v:.0f} tok/s" for p, v in row.items()), flush=True)
    result = {f"{p}_tokens_per_s": round(statistics.median(r[p] for r in rounds), 1) for p in paths}
    for p in paths[:-1]:
        result[f"{paths[-1]}_vs_{p}"] = round(statistics.median(r[paths[-1]] / r[p] for r in rounds), 2)
    result |= {f"auroc_{p}": round(auroc(labels, scores[p]), 4) for p in paths}
    result |= {"model": args.model, "dtype": engine.config.dtype, "texts": len(texts), "tokens": n,
               "runs": args.runs, "rounds": [{k: round(v, 1) for k, v in r.items()} for r in rounds],
               "machine": f"{machine['cpu']}, {machine['cores']} cores, torch {machine['torch']}",
               "command": "python benchmarks/bench_vocab_path.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
