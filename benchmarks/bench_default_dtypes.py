"""Does the shipped default detector keep its AUROC and its threshold's FPR in each dtype this CPU
can run fast, and how much faster is it? Every dtype on the same texts, in one run.

    python benchmarks/bench_default_dtypes.py [--dtypes float32,bfloat16] [--modern-humans 300]

Texts: the held-out halves of the 15 GPT-2-era Fast-DetectGPT files (default_data.py, the first
100 pairs of each, the split the default is measured on) for AUROC per file, and, for the FPR
at the shipped threshold, their held-out human articles plus `--modern-humans` held-out human
texts of the chat-era files (every domain, evenly spaced). The texts are scored in chunks, each
chunk by every dtype in turn, so the machine's noise falls on all alike; the speed ratio is the
median over chunks of float32's seconds over the dtype's. Writes benchmarks/default_dtypes.json.
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
import default_data  # noqa: E402
import modern_data  # noqa: E402

from ovid import load_detector  # noqa: E402
from ovid.metrics import auroc, clopper_pearson  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
CHUNK = 48


def texts(modern_humans: int) -> tuple[list[str], dict[tuple[str, str], tuple[list[int], list[int]]], list[int]]:
    """(unique texts, per file: (indices of its humans, of its machines), indices of all humans)."""
    index: dict[str, int] = {}

    def at(text: str) -> int:
        return index.setdefault(text, len(index))

    files = {}
    for key, (_train, held) in default_data.all_files(100).items():
        files[key] = ([at(t.text) for t in held if t.label == 0], [at(t.text) for t in held if t.label == 1])
    held_modern = [t for t in modern_data.modern_texts(None) if t.test and t.label == 0]
    seen = {t.text: t for t in held_modern}  # a human text repeats across a domain's files
    step = max(1, len(seen) // max(1, modern_humans))
    humans = sorted({i for h, _ in files.values() for i in h})
    humans += [at(t) for t in list(seen)[::step][:modern_humans]]
    return list(index), files, humans


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--modern-humans", type=int, default=300)
    ap.add_argument("--detector", default="ovid:default")
    args = ap.parse_args()
    dtypes = args.dtypes.split(",")
    all_texts, files, humans = texts(args.modern_humans)
    detectors = {}
    for d in dtypes:
        det = load_detector(args.detector)
        det.set_params(dtype=d)
        det.decision_function(all_texts[:2])  # load and warm
        detectors[d] = det
    scores = {d: np.empty(len(all_texts)) for d in dtypes}
    seconds: dict[str, list[float]] = {d: [] for d in dtypes}
    for a in range(0, len(all_texts), CHUNK):
        chunk = all_texts[a:a + CHUNK]
        for d, det in detectors.items():
            for e in det.engines():
                e.memory.clear()
            t = time.perf_counter()
            scores[d][a:a + len(chunk)] = det.decision_function(chunk)
            seconds[d].append(time.perf_counter() - t)
        print(f"{a + len(chunk)}/{len(all_texts)}", {d: round(sum(s), 1) for d, s in seconds.items()}, flush=True)
    threshold = detectors[dtypes[0]].threshold_
    base = dtypes[0]
    result = {"machine": describe(), "command": "python benchmarks/bench_default_dtypes.py " + " ".join(sys.argv[1:]),
              "detector": args.detector, "texts": len(all_texts), "humans_for_fpr": len(humans),
              "threshold": float(threshold), "dtypes": {}}
    for d in dtypes:
        s = scores[d]
        per_file = {f"{dom}_{gen}": auroc(np.r_[np.zeros(len(h)), np.ones(len(m))], np.r_[s[h], s[m]])
                    for (dom, gen), (h, m) in files.items()}
        flagged = int((s[humans] >= threshold).sum())
        lo, hi = clopper_pearson(flagged, len(humans))
        result["dtypes"][d] = {
            "mean_auroc": float(np.mean(list(per_file.values()))), "auroc_by_file": per_file,
            "fpr": flagged / len(humans), "fpr_lo": lo, "fpr_hi": hi, "humans_flagged": flagged,
            "max_abs_score_diff": float(np.abs(s - scores[base]).max()),
            "verdicts_changed": int(((s >= threshold) != (scores[base] >= threshold)).sum()),
            "seconds": sum(seconds[d]),
            "speed_ratio_to_" + base: statistics.median(b / x for b, x in zip(seconds[base], seconds[d])),
        }
        print(d, {k: v for k, v in result["dtypes"][d].items() if k != "auroc_by_file"}, flush=True)
    (HERE / "default_dtypes.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
