"""Cross-generator transfer: detectors trained on GPT-2-XL text (XSum + WritingPrompts, training
half of the articles) and tested on the held-out articles of all five generators' files, beside
the zero-shot detectors on the same held-out texts.

    python benchmarks/bench_cross_generator.py --epochs 3

Trained: the MiniLM-L6 classifier (`roberta` detector, offline backbone), TF-IDF, GLTR and the
ensemble (logistic regression over SmolLM2-135M one-pass statistics, with and without the
classifier's score). Zero-shot: every statistic of SmolLM2-135M (bf16). Splits are by article
(ovid/splits.py), so no held-out article, human or continued, reached training. Token statistics
come from the same cache as bench_detectors.py. Rows go to benchmarks/cross_generator.csv.
"""
from __future__ import annotations

import argparse
import json
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
SOURCES = ["gpt2-xl", "opt-2.7b", "gpt-neo-2.7B", "gpt-j-6B", "gpt-neox-20b"]
CACHE = str(HERE / ".cache")
LM = {"model": "smollm2-135m", "dtype": "bfloat16", "cache_dir": CACHE}


def halves(dataset: str, source: str):
    recs = list(read_corpus(DATA / f"{dataset}_{source}.raw_data.json"))
    return split_by_document(recs, [r.text for r in recs], 0.5, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--out", default=str(HERE / "cross_generator.csv"))
    args = ap.parse_args()
    print(describe(), flush=True)
    train = [r for d in ("xsum", "writing") for r in halves(d, "gpt2-xl")[0]]
    texts, labels = [r.text for r in train], [r.label for r in train]
    timings = {}
    trained = {}
    t0 = time.perf_counter()
    rob = make_detector("roberta", encoder="minilm-l6", max_length=args.max_length, epochs=args.epochs)
    rob.fit(texts, labels, out_dir=HERE / ".cache" / "minilm-run", progress=True)
    timings["roberta (minilm-l6)"] = time.perf_counter() - t0
    rob.save(HERE / ".cache" / "minilm-detector")
    trained["roberta (minilm-l6)"] = rob
    for name, det in (("tfidf", make_detector("tfidf")), ("gltr (smollm2)", make_detector("gltr", **LM)),
                      ("ensemble (smollm2)", make_detector("ensemble", models=["smollm2-135m"], dtype="bfloat16", cache_dir=CACHE)),
                      ("ensemble (smollm2 + minilm)", make_detector("ensemble", models=["smollm2-135m"], dtype="bfloat16",
                                                                    cache_dir=CACHE, classifier=str(HERE / ".cache" / "minilm-detector")))):
        t0 = time.perf_counter()
        trained[name] = det.fit(texts, labels)
        timings[name] = time.perf_counter() - t0
    probe = make_detector("likelihood", **LM)
    rows = []
    for dataset in ("xsum", "writing"):
        for source in SOURCES:
            test = halves(dataset, source)[1]
            tt, y = [r.text for r in test], np.array([r.label for r in test])
            scores = {n: d.decision_function(tt) for n, d in trained.items()}
            stats = probe.token_stats(tt, progress=False)
            for n, f in SCALAR_FEATURES.items():
                scores[f"{n} (smollm2, zero-shot)"] = np.array([f(s) for s in stats])
            for n, s in scores.items():
                rows.append({"detector": n, "dataset": dataset, "source_model": source, "n_test": len(tt),
                             "auroc": auroc(y, s), "tpr_at_1pct_fpr": tpr_at_fpr(y, s),
                             "train_seconds": round(timings.get(n, 0.0), 1)})
            print(dataset, source, {k: round(v["auroc"], 3) for k, v in zip(scores, rows[-len(scores):])}, flush=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(json.dumps({"train_texts": len(texts), "timings_s": {k: round(v, 1) for k, v in timings.items()},
                      "roberta_state": {k: v for k, v in rob.train_state_.items() if k != "config"},
                      "machine": describe()}))


if __name__ == "__main__":
    main()
