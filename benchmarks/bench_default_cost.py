"""What the shipped default costs to score, against the previous default, in the same run.

    python benchmarks/bench_default_cost.py [--texts 40] [--rounds 3]

Both detectors score the same held-out modern texts (every domain), round after round, in one
process; each round clears the engines' memory of statistics, so every round does the whole
forward pass. The first round of each is a warm-up (model load, compile) and is reported apart.
The cost ratio is the new default's seconds over the previous default's, per round; its median
is the figure. Words per second are given too: the two scoring models tokenize differently, so
tokens are not the same unit on both sides.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import modern_data  # noqa: E402

from ovid import load_detector  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
DETECTORS = ("ovid:default", "ovid:default-v1")


def sample_texts(n: int) -> list[str]:
    held = [t for t in modern_data.modern_texts(150) if t.test]
    step = max(1, len(held) // n)
    return [t.text for t in held[::step][:n]]


def timed(det, texts: list[str]) -> float:
    for eng in det.engines():
        eng.memory.clear()
    t0 = time.perf_counter()
    det.decision_function(texts)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    texts = sample_texts(args.texts)
    words = sum(len(t.split()) for t in texts)
    dets = {name: load_detector(name) for name in DETECTORS}
    warm = {name: timed(det, texts) for name, det in dets.items()}
    rounds = []
    for _ in range(args.rounds):
        r = {name: timed(det, texts) for name, det in dets.items()}
        rounds.append(r)
        print({k: round(v, 1) for k, v in r.items()}, flush=True)
    ratio = [r[DETECTORS[0]] / r[DETECTORS[1]] for r in rounds]
    out = {"texts": len(texts), "words": words, "warm_up_seconds": warm, "rounds": rounds,
           "words_per_second": {k: float(np.median([words / r[k] for r in rounds])) for k in DETECTORS},
           "cost_ratio_new_over_previous": float(np.median(ratio)), "ratios": ratio,
           "params": {k: {p: d.get_params()[p] for p in ("models", "dtype", "features")} for k, d in dets.items()},
           "machine": describe(), "command": "python benchmarks/bench_default_cost.py " + " ".join(sys.argv[1:])}
    (HERE / "default_cost.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("words_per_second", "cost_ratio_new_over_previous")}))


if __name__ == "__main__":
    main()
