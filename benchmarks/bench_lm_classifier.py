"""A classifier on a causal-LM backbone against the MiniLM classifier, trained the same way.

    python benchmarks/bench_lm_classifier.py

Both: the `classifier` detector (crops, AdamW with warm-up, early stopping on validation AUROC,
best weights kept), trained on the GPT-2-XL files of XSum and WritingPrompts, training half of the
articles (as bench_cross_generator.py), and tested on the held-out articles of all five
generators' files. Settings were fixed before testing, not tuned on the held-out half:
- MiniLM-L6 (22M): all layers, lr 5e-5, 3 epochs, crops up to 256 tokens (the earlier benchmark);
- SmolLM2-135M: the top 8 of its 30 blocks and the head (the rest frozen: its backward pass is
  skipped), lr 1e-4, 2 epochs, crops up to 256 tokens, bf16 autocast, the final hidden states
  mean-pooled over the real tokens (`smollm2-135m`) or the last real token read by the family's
  own head (`smollm2-135m-last`).
`--backbones` picks the settings to run; rows go to benchmarks/lm_classifier.csv (rows of the
settings not run are kept); the last line is a JSON summary.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cross_generator import SOURCES, halves  # noqa: E402

from ovid import make_detector  # noqa: E402
from ovid.metrics import auroc, tpr_at_fpr  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
SETTINGS = {
    "minilm-l6": dict(backbone="minilm-l6", max_length=256, epochs=3, batch_size=16, lr=5e-5),
    "smollm2-135m": dict(backbone="smollm2-135m", max_length=256, epochs=2, batch_size=16, lr=1e-4, train_layers=8,
                         dtype="bfloat16", pooling="mean"),
    "smollm2-135m-last": dict(backbone="smollm2-135m", max_length=256, epochs=2, batch_size=16, lr=1e-4,
                              train_layers=8, dtype="bfloat16", pooling="last"),
}


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backbones", default="minilm-l6,smollm2-135m")
    args = ap.parse_args()
    machine = describe()
    print(machine, flush=True)
    train = [r for d in ("xsum", "writing") for r in halves(d, "gpt2-xl")[0]]
    texts, labels = [r.text for r in train], [r.label for r in train]
    rows, summary = [], {}
    for name in args.backbones.split(","):
        params = SETTINGS[name]
        det = make_detector("classifier", **params)
        t0 = time.perf_counter()
        det.fit(texts, labels, out_dir=HERE / ".cache" / f"classifier-{name}", progress=True)
        seconds = time.perf_counter() - t0
        det.save(HERE / ".cache" / f"classifier-{name}-detector")
        for dataset in ("xsum", "writing"):
            for source in SOURCES:
                test = halves(dataset, source)[1]
                y = np.array([r.label for r in test])
                s = det.decision_function([r.text for r in test])
                rows.append({"backbone": name, "dataset": dataset, "source_model": source, "n_test": len(test),
                             "auroc": auroc(y, s), "tpr_at_1pct_fpr": tpr_at_fpr(y, s),
                             "train_seconds": round(seconds, 1)})
                print(name, dataset, source, round(rows[-1]["auroc"], 4), flush=True)
        df = pd.DataFrame([r for r in rows if r["backbone"] == name])
        summary[name] = {"xsum_mean_auroc": round(df[df.dataset == "xsum"].auroc.mean(), 4),
                         "writing_mean_auroc": round(df[df.dataset == "writing"].auroc.mean(), 4),
                         "train_seconds": round(seconds, 1), "best_valid_auroc": round(det.train_state_["best_auroc"], 4),
                         "steps": det.train_state_["step"], "stopped_early": det.train_state_["stopped_early"]}
        print(json.dumps({name: summary[name]}), flush=True)
    out = HERE / "lm_classifier.csv"
    table = pd.DataFrame(rows)
    if out.exists():  # keep the rows of settings not run this time
        old = pd.read_csv(out)
        table = pd.concat([old[~old.backbone.isin(table.backbone)], table])
    table.to_csv(out, index=False, float_format="%.4f")
    if {"smollm2-135m", "minilm-l6"} <= set(summary):
        summary["xsum_gain"] = round(summary["smollm2-135m"]["xsum_mean_auroc"] - summary["minilm-l6"]["xsum_mean_auroc"], 4)
    summary |= {"train_texts": len(texts), "machine": f"{machine['cpu']}, {machine['cores']} cores, torch {machine['torch']}",
                "command": "python benchmarks/bench_lm_classifier.py --backbones " + args.backbones}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
