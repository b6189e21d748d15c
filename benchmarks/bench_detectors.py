"""Detection quality of every zero-shot detector, plus TF-IDF and GLTR trained with a split by
source document, on the ten Fast-DetectGPT files in ../shared/data/fastdetectgpt.

    python benchmarks/bench_detectors.py --model smollm2-135m --pairs 500 --dtype bfloat16
    python benchmarks/bench_detectors.py --model gemma3-270m --pairs 150 --dtype bfloat16
    python benchmarks/bench_detectors.py --table      # merge results + published AUROCs -> RESULTS table

The first `--pairs` human/machine pairs of each file are scored in one engine pass per file
(token statistics cached under benchmarks/.cache, so a killed run resumes). Zero-shot AUROC and
TPR at 1% FPR are computed on all pairs and on the held-out half; TF-IDF and GLTR are trained on
the other half (split by document key, see ovid/splits.py) and tested on the held-out half.
Rows are appended to benchmarks/detectors.csv.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ovid import make_detector  # noqa: E402
from ovid.corpus import read_corpus  # noqa: E402
from ovid.detect.features import SCALAR_FEATURES  # noqa: E402
from ovid.metrics import auroc, tpr_at_fpr  # noqa: E402
from ovid.splits import split_by_document  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "fastdetectgpt"
OUT = HERE / "detectors.csv"
SOURCES = ["gpt2-xl", "opt-2.7b", "gpt-neo-2.7B", "gpt-j-6B", "gpt-neox-20b"]


def load_pairs(dataset: str, source: str, pairs: int):
    recs = list(read_corpus(DATA / f"{dataset}_{source}.raw_data.json"))
    half = len(recs) // 2
    return recs[:pairs] + recs[half:half + pairs]


def rows_for_file(dataset, source, model, pairs, dtype, cache) -> list[dict]:
    recs = load_pairs(dataset, source, pairs)
    texts, labels = [r.text for r in recs], np.array([r.label for r in recs])
    idx_train, idx_test = split_by_document(list(range(len(recs))), texts)
    base = {"dataset": dataset, "source_model": source, "scoring_model": model, "n_pairs": pairs, "dtype": dtype}
    probe = make_detector("likelihood", model=model, dtype=dtype, cache_dir=cache)
    t0 = time.perf_counter()
    stats = probe.token_stats(texts, progress=True)
    seconds = time.perf_counter() - t0
    n_tokens = sum(len(s) for s in stats)
    out = []
    for name, fn in SCALAR_FEATURES.items():
        sc = np.array([fn(s) for s in stats])
        out.append(base | {"detector": name, "auroc": auroc(labels, sc), "tpr_at_1pct_fpr": tpr_at_fpr(labels, sc),
                           "auroc_heldout": auroc(labels[idx_test], sc[idx_test]),
                           "tpr_heldout": tpr_at_fpr(labels[idx_test], sc[idx_test]),
                           "tokens": n_tokens, "seconds": round(seconds, 1)})
    for name, params in (("tfidf", {}), ("gltr", {"model": model, "dtype": dtype, "cache_dir": cache})):
        det = make_detector(name, **params).fit([texts[i] for i in idx_train], labels[idx_train])
        sc = det.decision_function([texts[i] for i in idx_test])
        out.append(base | {"detector": name, "auroc": np.nan, "tpr_at_1pct_fpr": np.nan,
                           "auroc_heldout": auroc(labels[idx_test], sc), "tpr_heldout": tpr_at_fpr(labels[idx_test], sc),
                           "tokens": n_tokens, "seconds": np.nan})
    return out


def run(args) -> None:
    cache = str(HERE / ".cache")
    print(describe(), flush=True)
    done = pd.read_csv(OUT) if OUT.exists() else pd.DataFrame()
    for dataset in ("xsum", "writing"):
        for source in SOURCES:
            if len(done) and ((done.dataset == dataset) & (done.source_model == source) & (done.scoring_model == args.model)
                              & (done.n_pairs == args.pairs) & (done.dtype == args.dtype)).any():
                continue
            rows = rows_for_file(dataset, source, args.model, args.pairs, args.dtype, cache)
            for r in rows:
                r["machine"] = f"{describe()['cpu']}, {describe()['cores']} cores"
            done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
            done.to_csv(OUT, index=False)
            fd = next(r for r in rows if r["detector"] == "fast-detectgpt")
            print(f"{dataset} {source}: fast-detectgpt AUROC {fd['auroc']:.4f} ({fd['tokens']} tokens, {fd['seconds']} s)", flush=True)


PUBLISHED_NAME = {"likelihood": "likelihood", "logrank": "logrank", "entropy": "entropy", "lrr": "lrr",
                  "fast-detectgpt": "sampling_discrepancy"}


def table() -> str:
    """Markdown: mean AUROC over the five sources per dataset, ovid vs published."""
    df = pd.read_csv(OUT)
    pub = pd.read_csv(DATA / "published_auroc.csv")
    white = pub[(pub.scoring_model == pub.source_model) &
                (pub.reference_model.isna() | (pub.reference_model == pub.source_model))]
    black = pub[(pub.method == "sampling_discrepancy") & (pub.reference_model == "gpt-j-6B") &
                (pub.scoring_model == "gpt-neo-2.7B")]
    lines = []
    for (model, pairs), g in df.groupby(["scoring_model", "n_pairs"], sort=False):
        lines.append(f"\n### Scoring model {model}, first {pairs} pairs per file ({g.dtype.iloc[0]})\n")
        lines.append("AUROC (TPR at 1% FPR). Zero-shot: all pairs. tfidf/gltr: held-out half (split by article).\n")
        header = "| detector | " + " | ".join(f"{d}/{s}" for d in ("xsum", "writing") for s in SOURCES) + " |"
        lines += [header, "|" + "---|" * (1 + 2 * len(SOURCES))]
        for det in list(PUBLISHED_NAME)[:4] + ["fast-detectgpt", "binoculars", "gltr", "tfidf"]:
            cells = []
            for d in ("xsum", "writing"):
                for s in SOURCES:
                    r = g[(g.detector == det) & (g.dataset == d) & (g.source_model == s)]
                    if r.empty:
                        cells.append("")
                        continue
                    r = r.iloc[0]
                    a, t = (r.auroc, r.tpr_at_1pct_fpr) if not np.isnan(r.auroc) else (r.auroc_heldout, r.tpr_heldout)
                    cells.append(f"{a:.3f} ({t:.2f})")
            lines.append(f"| {det} | " + " | ".join(cells) + " |")
        for label, src in (("published white-box", white), ("published black-box", black)):
            for det, pname in PUBLISHED_NAME.items():
                if label.endswith("black-box") and det != "fast-detectgpt":
                    continue
                cells = []
                for d in ("xsum", "writing"):
                    for s in SOURCES:
                        r = src[(src.method == pname) & (src.dataset == d) & (src.source_model == s)]
                        cells.append(f"{r.roc_auc.iloc[0]:.3f}" if len(r) else "")
                lines.append(f"| {label}: {det} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--table", action="store_true")
    a = ap.parse_args()
    print(table()) if a.table else run(a)
