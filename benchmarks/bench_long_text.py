"""One long text against many normal ones, scored by the engine in the same run.

    python benchmarks/bench_long_text.py --texts 200 --runs 3

The first `--texts` texts of ../shared/data/fastdetectgpt/xsum_gpt2-xl.raw_data.json are scored
(a) as they are, (b) joined into one long text with the old default stride (half a window),
(c) joined, with the default stride (all but an eighth of the window), and (d) the same tokens cut
into independent texts of one window each: the fastest any windowing of the long text could be.
SmolLM2-135M, compile never (the same for all). Medians of `--runs`; the last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ovid.corpus import read_corpus  # noqa: E402
from ovid.detect.engine import ScoringEngine  # noqa: E402
from ovid.detect.params import EngineConfig  # noqa: E402

from _machine import describe  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fastdetectgpt" / "xsum_gpt2-xl.raw_data.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--model", default="smollm2-135m")
    args = ap.parse_args()
    texts = [r.text for r in read_corpus(DATA)][:args.texts]
    long = "\n\n".join(texts)
    base = ScoringEngine(EngineConfig(model=args.model, compile="never"))
    ids = base.tokenizer(long, add_special_tokens=False).input_ids
    cut = [base.tokenizer.decode(ids[i:i + base.window - 1]) for i in range(0, len(ids), base.window - 1)]
    cases = {"many normal texts": (None, texts), "one long text, stride half a window (old)": ((base.window - 1) // 2, [long]),
             "one long text, default stride": (None, [long]), "the long text cut into window-sized texts": (None, cut)}
    engines = {name: ScoringEngine(EngineConfig(model=args.model, compile="never", stride=stride))
               for name, (stride, _) in cases.items()}
    rates: dict[str, list[float]] = {name: [] for name in cases}
    stats = {}
    for _ in range(args.runs):
        for name, (_, batch) in cases.items():
            eng = engines[name]
            eng.memory.clear()
            t0 = time.perf_counter()
            out = eng._compute(batch, False)
            rates[name].append(sum(len(s.token_ids) for s in out) / (time.perf_counter() - t0))
            stats[name] = out
    result = {"machine": describe(), "window": base.window, "long_tokens": len(ids),
              "tokens_per_s": {k: round(statistics.median(v)) for k, v in rates.items()},
              "runs": {k: [round(x) for x in v] for k, v in rates.items()}}
    normal = statistics.median(rates["many normal texts"])
    result["share_of_normal_rate"] = {k: round(statistics.median(v) / normal, 3) for k, v in rates.items()}
    old = stats["one long text, stride half a window (old)"][0].log_prob
    new = stats["one long text, default stride"][0].log_prob
    result["mean_log_prob"] = {"old_stride": float(np.mean(old)), "default_stride": float(np.mean(new)),
                               "max_abs_token_diff": float(np.max(np.abs(old - new)))}
    for k, v in result["tokens_per_s"].items():
        print(f"{k}: {v} tokens/s ({result['share_of_normal_rate'][k]:.2f} of the normal rate)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
