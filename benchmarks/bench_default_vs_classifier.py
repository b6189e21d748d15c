"""The chosen default recipe against a fine-tuned LM-backbone classifier, trained on the same texts.

    python benchmarks/bench_default_vs_classifier.py [--train 1200] [--per-side 40]

Both train on the same sample of the default's training pool (train_default.py: the licensed
chat-era files' and the GPT-2-era files' training halves, `--train` texts drawn evenly from its
files, seed 0) and are measured on the same held-out texts (the first `--per-side` held-out human
and machine texts of every chat-era file, the three DetectRL generators among them, which no
detector here ever trains on):
- the default recipe: the candidate train_default.py chose (benchmarks/default_detector.json),
  on the one-pass features of the statistics cache;
- `classifier`: SmolLM2-135M with a mean-pooled head, its top 8 of 30 blocks trained (the rest
  frozen), 2 epochs, lr 1e-4, crops of up to 256 tokens, float32 (bf16 is emulated on CPUs
  without bf16 units), 20% of the source texts held out for early stopping: the recipe that
  won benchmarks/bench_lm_classifier.py. Settings fixed before testing.
Writes benchmarks/default_vs_classifier.json.
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
import train_default as td  # noqa: E402

from ovid import make_detector  # noqa: E402
from ovid.metrics import auroc_of  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
CLASSIFIER = dict(backbone="smollm2-135m", pooling="mean", train_layers=8, dtype="float32", max_length=256,
                  epochs=2, batch_size=16, lr=1e-4)


def even_sample(texts: list, n: int, seed: int = 0) -> list:
    """n texts drawn evenly across files (whole source texts: a pair stays together)."""
    rng = np.random.default_rng(seed)
    files = sorted({t.file for t in texts})
    per = max(1, n // len(files))
    out = []
    for f in files:
        keys = sorted({t.key for t in texts if t.file == f})
        rng.shuffle(keys)
        chosen, picked = set(), []
        for k in keys:
            if len(picked) >= per:
                break
            chosen.add(k)
            picked += [t for t in texts if t.file == f and t.key == k]
        out += picked
    return td.unique(out)


def per_file(texts: list, scores: np.ndarray) -> dict[str, float]:
    out = {}
    for f in sorted({t.file for t in texts}):
        h = np.array([s for s, t in zip(scores, texts) if t.file == f and t.label == 0])
        m = np.array([s for s, t in zip(scores, texts) if t.file == f and t.label == 1])
        out[f] = auroc_of(h, m)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1200)
    ap.add_argument("--per-side", type=int, default=40)
    args = ap.parse_args()
    modern = modern_data.modern_texts(td.PAIRS)
    gpt2 = td.gpt2_texts(td.GPT2_PAIRS)
    pool = [t for t in modern + gpt2 if not t.test and t.shippable]
    train = even_sample(pool, args.train)
    test, seen = [], {}
    for t in modern:
        k = (t.file, t.label)
        if t.test and seen.get(k, 0) < args.per_side:
            seen[k] = seen.get(k, 0) + 1
            test.append(t)
    chosen = json.loads((HERE / "default_detector.json").read_text())["candidate"]
    cand = td.Candidate(**{**chosen, "layers": tuple(chosen["layers"])})
    feats = td.Features(train + test)
    t0 = time.perf_counter()
    default_scores = td.scores_of(td.fit(feats, cand, train), feats.matrix(test, cand))
    default_seconds = time.perf_counter() - t0

    det = make_detector("classifier", **CLASSIFIER)
    t0 = time.perf_counter()
    det.fit([t.text for t in train], [t.label for t in train], out_dir=HERE / ".cache" / "default-vs-classifier",
            progress=True)
    train_seconds = time.perf_counter() - t0
    clf_scores = det.decision_function([t.text for t in test], progress=True)
    a, b = per_file(test, default_scores), per_file(test, clf_scores)
    unseen = sorted(modern_data.UNLICENSED)
    out = {"train_texts": len(train), "test_texts": len(test), "default_recipe": cand.name,
           "default_recipe_by_file": a, "classifier_by_file": b,
           "default_recipe_mean": float(np.mean(list(a.values()))), "classifier_mean": float(np.mean(list(b.values()))),
           "default_recipe_mean_unseen_generators": float(np.mean([a[f] for f in unseen])),
           "classifier_mean_unseen_generators": float(np.mean([b[f] for f in unseen])),
           "default_recipe_fit_seconds": round(default_seconds, 1), "classifier_train_seconds": round(train_seconds, 1),
           "classifier": CLASSIFIER, "machine": describe(),
           "command": "python benchmarks/bench_default_vs_classifier.py " + " ".join(sys.argv[1:])}
    (HERE / "default_vs_classifier.json").write_text(json.dumps(out, indent=2) + "\n")
    for f in a:
        print(f"{f:32s} default recipe {a[f]:.3f}  classifier {b[f]:.3f}")
    print(json.dumps({k: out[k] for k in out if k.endswith("mean") or k.endswith("generators")}))


if __name__ == "__main__":
    main()
