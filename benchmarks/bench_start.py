"""The start of `ovid score` on one sentence: cold (the packaged GGUF model is dequantized and its
dense copy written to ovid's cache) against warm (the dense copy is read), in the same run.

    python benchmarks/bench_start.py --runs 3

Each round uses a new, empty cache folder (OVID_CACHE_DIR): one cold command, then one warm
command. Wall time of the whole command (interpreter start, imports, model load, scoring one
sentence, writing the output), medians over rounds; the speedup is the median of the per-round
ratios. The last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe  # noqa: E402

SENTENCE = "The council met on Tuesday to discuss the price of bread and the broken church bell."


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--model", default="smollm2-135m")
    args = ap.parse_args()
    ovid = str(Path(sys.executable).with_name("ovid"))
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "one.txt"
        text.write_text(SENTENCE)
        for r in range(args.runs):
            env = dict(os.environ, HF_HUB_OFFLINE="1", OVID_CACHE_DIR=str(Path(tmp) / f"cache-{r}"))
            cmd = [ovid, "score", str(text), "--detector", "fast-detectgpt", "--model", args.model,
                   "--no-progress", "--out", str(Path(tmp) / f"s-{r}.jsonl")]
            cold.append(timed(cmd, env))
            warm.append(timed(cmd, env))
            print(f"round {r + 1}: cold {cold[-1]:.1f} s, warm {warm[-1]:.1f} s, {cold[-1] / warm[-1]:.2f}x", flush=True)
    result = {"machine": describe(), "model": args.model, "cold_s": round(statistics.median(cold), 2),
              "warm_s": round(statistics.median(warm), 2),
              "speedup": round(statistics.median(c / w for c, w in zip(cold, warm)), 2),
              "cold_runs": [round(x, 2) for x in cold], "warm_runs": [round(x, 2) for x in warm]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
