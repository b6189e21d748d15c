"""A roofline for this machine: matmul throughput per dtype at the shapes SmolLM2-135M scores with,
and the scoring path's throughput as a share of it, in the same run.

    python benchmarks/bench_limits.py --rounds 3

- limit: GFLOP/s of (tokens x hidden) @ (hidden x out) for the model's three kinds of matrix
  (attention 576x576, MLP 576x1536 and 1536x576, output layer 576 x 8,192 vocabulary tile) at
  1,024 rows, as the engine computes them (x @ W.T), for float32, bfloat16 (emulated where the
  CPU has no bf16 units), int8 weights with dynamically quantized activations (torch's fbgemm
  kernels, as quantize_dynamic) and int8 x int8 (torch._int_mm). The limit of a dtype is the
  FLOP-weighted harmonic mean over the shapes one token needs (what a perfect scorer would reach).
- scoring: ovid's engine (Fast-DetectGPT statistics, compile never) on 24 XSum texts in float32,
  tokens/s, times the model's FLOPs per scored token (2 x body parameters + 2 x hidden x vocab),
  as a share of the float32 limit; and the shipped default detector (`ovid:default`: the same
  body, its pooled hidden states and statistics) on the same texts in float32 and, where the CPU
  runs bfloat16 natively, in bfloat16, each as a share of its dtype's limit.
Medians over rounds; writes benchmarks/limits_<cpu kind>.json (one file per CPU kind: avx2,
avx512-bf16, amx), the CPU's flags in it.
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
from ovid.corpus import read_corpus  # noqa: E402
from ovid.detect.engine import EngineConfig, ScoringEngine  # noqa: E402
from ovid.hardware import bf16_fast, cpu_flags  # noqa: E402

from _machine import cpu_kind, describe  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fastdetectgpt" / "xsum_gpt2-xl.raw_data.json"
HIDDEN, MLP, TILE, ROWS = 576, 1536, 8192, 1024
FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni", "avx_vnni")  # what decides the kernels


@torch.no_grad()
def gflops(a: torch.Tensor, b: torch.Tensor, mm, repeats: int = 10) -> float:
    """The best of three timings of `repeats` calls: a limit is what the kernel can reach."""
    mm(a, b)  # warm
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeats):
            mm(a, b)
        best = min(best, (time.perf_counter() - t0) / repeats)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / best / 1e9


def _int8_dynamic(k: int, n: int):
    """A Linear with int8 weights and per-batch int8 activations (fbgemm), as torch's dynamic quantization."""
    import warnings

    lin = torch.nn.Linear(k, n, bias=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8)


def limits() -> dict[str, dict]:
    # per token and layer (30 layers): q, k, v, o counted as 576x576 (grouped k/v are smaller), gate and up
    # (576x1536), down (1536x576); the output layer 576 x 49,152 once (six 8,192-row tiles)
    shapes = {"attention": (HIDDEN, HIDDEN, 4 * 30), "mlp_in": (HIDDEN, MLP, 2 * 30), "mlp_out": (MLP, HIDDEN, 30),
              "output": (HIDDEN, TILE, 6)}
    out = {}
    for dtype in ("float32", "bfloat16", "int8_dynamic", "int8_int_mm"):
        per_shape = {}
        try:
            for name, (k, n, _) in shapes.items():
                if dtype == "int8_dynamic":
                    q, x = _int8_dynamic(k, n), torch.randn(ROWS, k)
                    per_shape[name] = gflops(x, torch.empty(k, n), lambda a, b, q=q: q(a))
                elif dtype == "int8_int_mm":
                    a = torch.randint(-127, 127, (ROWS, k), dtype=torch.int8)
                    per_shape[name] = gflops(a, torch.randint(-127, 127, (k, n), dtype=torch.int8), torch._int_mm)
                else:  # the engine's op: x @ W.T with W (out x in), as nn.Linear
                    t = getattr(torch, dtype)
                    w = torch.randn(n, k, dtype=t)
                    per_shape[name] = gflops(torch.randn(ROWS, k, dtype=t), w.T,
                                             lambda a, b: torch.nn.functional.linear(a, b.T))
        except (RuntimeError, AttributeError):  # a kernel this build lacks
            out[dtype] = None
            continue
        work = {name: 2 * k * n * count for name, (k, n, count) in shapes.items()}
        seconds = sum(work[n] / (per_shape[n] * 1e9) for n in shapes)
        out[dtype] = {"per_shape_gflops": {k: round(v, 1) for k, v in per_shape.items()},
                      "limit_gflops": round(sum(work.values()) / seconds / 1e9, 1)}
    return out


def scoring(texts: list[str]) -> tuple[float, float]:
    engine = ScoringEngine(EngineConfig(model="smollm2-135m", dtype="float32", compile="never"))
    engine._compute(texts[:2], progress=False)  # load and warm
    t0 = time.perf_counter()
    stats = engine._compute(texts, progress=False)
    dt = time.perf_counter() - t0
    tokens = sum(len(s.log_prob) for s in stats)
    model = engine.model
    body = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and "lm_head" not in n)
    flop_per_token = 2 * body + 2 * HIDDEN * engine.vocab
    return tokens / dt, flop_per_token


def default_detector(texts: list[str], dtype: str) -> float:
    """The shipped default detector's tokens/s on `texts` in `dtype` (its engine's memory cleared)."""
    from ovid import load_detector

    det = load_detector("ovid:default")
    det.set_params(dtype=dtype)
    det.decision_function(texts[:2])  # load and warm
    for e in det.engines():
        e.memory.clear()
    t0 = time.perf_counter()
    det.decision_function(texts)
    dt = time.perf_counter() - t0
    return sum(len(s) for s in det.engines()[0].token_stats(det.prepare(texts))) / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--texts", type=int, default=24)
    args = ap.parse_args()
    texts = [r.text for r in read_corpus(DATA) if r.label == 0][:args.texts]
    rounds = []
    for r in range(args.rounds):
        lim = limits()
        tps, flop = scoring(texts)
        share = tps * flop / 1e9 / lim["float32"]["limit_gflops"]
        default = {}
        for dtype in ("float32", "bfloat16") if bf16_fast() else ("float32",):
            rate = default_detector(texts, dtype)
            default[dtype] = {"tokens_per_s": rate, "share": rate * flop / 1e9 / lim[dtype]["limit_gflops"]}
        rounds.append({"limits": lim, "scoring_tokens_per_s": tps, "flop_per_token": flop, "share_fp32": share,
                       "default": default})
        shown = {d: v and v["limit_gflops"] for d, v in lim.items()}
        defaults = {d: "%.0f tok/s = %.0f%%" % (v["tokens_per_s"], 100 * v["share"]) for d, v in default.items()}
        print(f"round {r + 1}: limits (GFLOP/s) {shown}; scoring {tps:.0f} tok/s = {share:.0%} of the fp32 limit; "
              f"default {defaults}", flush=True)
    med = lambda f: round(statistics.median(f(x) for x in rounds), 3)  # noqa: E731
    flags = cpu_flags()
    kinds = ("float32", "bfloat16", "int8_dynamic", "int8_int_mm")
    result = {"machine": describe(),
              "flags": {f: f in flags for f in FLAGS},
              "limit_gflops": {d: med(lambda x, d=d: x["limits"][d]["limit_gflops"]) if rounds[0]["limits"][d] else None
                               for d in kinds},
              "scoring_tokens_per_s_fp32": med(lambda x: x["scoring_tokens_per_s"]),
              "flop_per_token": rounds[0]["flop_per_token"], "share_of_fp32_limit": med(lambda x: x["share_fp32"]),
              "default_detector": {d: {"tokens_per_s": med(lambda x, d=d: x["default"][d]["tokens_per_s"]),
                                       "share_of_limit": med(lambda x, d=d: x["default"][d]["share"])}
                                   for d in rounds[0]["default"]},
              "rounds": rounds, "command": "python benchmarks/bench_limits.py " + " ".join(sys.argv[1:])}
    out = Path(__file__).resolve().parent / f"limits_{cpu_kind()}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
