"""Scoring throughput: the engine against a naive loop, in the same run, on real texts.

    python benchmarks/bench_scoring.py --texts 200

Texts: the first texts/2 pairs (human original + GPT-2-XL continuation) of
../shared/data/fastdetectgpt/xsum_gpt2-xl.raw_data.json.

- naive: one text at a time, float32, `model(...).logits` then every statistic from that one
  forward pass with the reference definitions (detect/stats.py).
- engine: ovid's ScoringEngine (length-sorted token-budget batches, output layer only at scored
  positions, fused statistics, dtype auto = bfloat16 on a CPU with AVX512-BF16/AMX).

Models are loaded once, before timing; the engine's first pass (which compiles its decoder
blocks and statistics, `--compile always`) is reported apart as warm-up and not timed. Each of `--runs` rounds times both;
the figures are medians, and the speedup is the median of the per-round ratios. The last line
is one JSON object (naive_tokens_per_s, engine_tokens_per_s, speedup, auroc_naive, auroc_engine).
`--quick`: one round on 24 texts without compiling, a routine check that finishes within minutes.
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
from ovid.corpus import read_corpus  # noqa: E402
from ovid.detect.engine import EngineConfig, ScoringEngine  # noqa: E402
from ovid.detect.features import TokenStats, fast_detectgpt  # noqa: E402
from ovid.detect.stats import token_statistics  # noqa: E402
from ovid.metrics import auroc  # noqa: E402
from ovid.models import document_token_id, load_causal_lm  # noqa: E402

from _machine import describe  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fastdetectgpt"


def load_texts(n_texts: int) -> tuple[list[str], np.ndarray]:
    recs = list(read_corpus(DATA / "xsum_gpt2-xl.raw_data.json"))
    half, pairs = len(recs) // 2, n_texts // 2
    chosen = recs[:pairs] + recs[half:half + pairs]  # human originals, then their continuations
    return [r.text for r in chosen], np.array([r.label for r in chosen])


@torch.inference_mode()
def naive_loop(model, tokenizer, doc_id: int, texts: list[str], window: int) -> list[TokenStats]:
    out = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False).input_ids[:window - 1]
        x = torch.tensor([[doc_id] + ids])
        stats = token_statistics(model(input_ids=x).logits[:, :-1], x[:, 1:])
        out.append(TokenStats(np.asarray(ids), **{k: v[0].numpy() for k, v in stats.items()}))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=200)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--dtype", default="auto", help="the engine's dtype (the naive loop is float32)")
    ap.add_argument("--token-budget", type=int, default=EngineConfig.token_budget)
    ap.add_argument("--compile", default="always", help="the engine's compile setting (auto, always, never)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="one round on 24 texts, no compile: a routine check of the ratio within 3 minutes on 2 cores")
    args = ap.parse_args(argv)
    if args.quick:
        args.texts, args.runs, args.compile = min(args.texts, 24), 1, "never"

    texts, labels = load_texts(args.texts)
    machine = describe()
    print(machine, flush=True)
    model, tok = load_causal_lm(args.model, "float32")
    doc_id = document_token_id(args.model)
    engine = ScoringEngine(EngineConfig(model=args.model, dtype=args.dtype, token_budget=args.token_budget,
                                        compile=args.compile))
    t0 = time.perf_counter()
    engine._compute(texts, progress=False)
    warmup = time.perf_counter() - t0

    rounds = []
    for r in range(args.runs):
        t0 = time.perf_counter()
        naive = naive_loop(model, tok, doc_id, texts, engine.window)
        t_naive = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = engine._compute(texts, progress=False)  # no cache: every round does the work
        t_engine = time.perf_counter() - t0
        n_tokens = sum(len(s) for s in naive)
        assert n_tokens == sum(len(s) for s in fast)
        rounds.append({"naive_tokens_per_s": n_tokens / t_naive, "engine_tokens_per_s": n_tokens / t_engine,
                       "speedup": t_naive / t_engine})
        print(f"round {r + 1}: {n_tokens} tokens, naive {t_naive:.1f} s, engine {t_engine:.1f} s, "
              f"speedup {t_naive / t_engine:.2f}x", flush=True)

    diff = np.concatenate([np.abs(a.log_prob - b.log_prob) for a, b in zip(naive, fast)])
    result = {k: round(statistics.median(r[k] for r in rounds), 2) for k in rounds[0]}
    result |= {
        "auroc_naive": round(auroc(labels, np.array([fast_detectgpt(s) for s in naive])), 4),
        "auroc_engine": round(auroc(labels, np.array([fast_detectgpt(s) for s in fast])), 4),
        "engine_dtype": engine.config.dtype, "log_prob_abs_diff_median": round(float(np.median(diff)), 4),
        "log_prob_abs_diff_p99": round(float(np.quantile(diff, 0.99)), 4),
        "texts": len(texts), "tokens": n_tokens, "runs": args.runs, "engine_warmup_s": round(warmup, 1),
        "rounds": [{k: round(v, 2) for k, v in r.items()} for r in rounds],
        "machine": f"{machine['cpu']}, {machine['cores']} cores, torch {machine['torch']}",
        "command": "python benchmarks/bench_scoring.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
