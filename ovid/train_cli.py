"""`detect-train`: train (or, for zero-shot detectors, calibrate) a detector and save it.

    detect-train --detector roberta --encoder minilm-l6 --train FILE... --out runs/det1
                 [--valid FILE...] [--human FILE... --machine FILE...] [--epochs N]
                 [--max-texts N] [--seed S] [--resume]

argparse rather than typer here: `--train FILE...` takes several files after one flag (shell
globs), which click options cannot. Detector options map one-to-one onto detector parameters;
only the ones given are passed, and one the detector does not take is an error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__
from .atomic import write_json
from .corpus import HUMAN, MACHINE, Record, read_corpus
from .errors import OvidError
from .metrics import summary
from .splits import document_key, split_by_document

DETECTOR_OPTIONS = {  # CLI option -> (type, help); each is a parameter of some detector
    "encoder": (str, "Encoder for roberta: minilm-l6 (offline), roberta-base, any Hub id or folder."),
    "model": (str, "Scoring model for LM-based detectors (default smollm2-135m)."),
    "models": (str, "Comma-separated scoring models for ensemble."),
    "reference_model": (str, "Reference/observer model (fast-detectgpt, binoculars)."),
    "classifier": (str, "Saved detector folder whose score feeds the ensemble."),
    "learner": (str, "Ensemble learner: logistic or gbm."),
    "dtype": (str, "auto (bfloat16 where native, else float32), float32 or bfloat16."),
    "epochs": (int, "Training epochs (roberta)."),
    "batch_size": (int, "Texts per training step (roberta)."),
    "lr": (float, "Peak learning rate (roberta)."),
    "max_length": (int, "Tokens per crop/window."),
    "patience": (int, "Validations without improvement before early stopping (roberta)."),
    "eval_every": (int, "Steps between validations; 0 = each epoch (roberta)."),
    "seed": (int, "Random seed (data order, crops, splits)."),
    "cache_dir": (str, "Folder for cached token statistics."),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="detect-train", description=__doc__.splitlines()[0])
    p.add_argument("--detector", default="roberta", help="Registry name (roberta, gltr, tfidf, ensemble, fast-detectgpt, ...).")
    p.add_argument("--train", nargs="+", default=[], metavar="FILE", help="Labelled corpora (Fast-DetectGPT JSON, JSONL with text+label).")
    p.add_argument("--human", nargs="+", default=[], metavar="FILE", help="Corpora of human text (any format).")
    p.add_argument("--machine", nargs="+", default=[], metavar="FILE", help="Corpora of machine text (any format).")
    p.add_argument("--valid", nargs="+", default=[], metavar="FILE", help="Labelled validation corpora; default: 20%% of the source documents held out.")
    p.add_argument("--out", required=True, type=Path, help="Output folder: the saved detector, metrics.json, train_log.jsonl.")
    p.add_argument("--max-texts", type=int, default=None, help="Use at most N training texts (whole source documents, chosen by seed).")
    p.add_argument("--target-fpr", type=float, default=0.01, help="False-positive rate the threshold is set for.")
    p.add_argument("--calibration", default="platt", choices=["platt", "isotonic"], help="Probability calibration.")
    p.add_argument("--resume", action="store_true", help="Continue an interrupted roberta run from its checkpoint.")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="Hide progress bars.")
    for name, (typ, help_) in DETECTOR_OPTIONS.items():
        p.add_argument("--" + name.replace("_", "-"), type=typ, default=None, help=help_)
    return p


def labelled_records(train: list[str], human: list[str], machine: list[str]) -> list[Record]:
    recs = []
    for src in train:
        for r in read_corpus(src):
            if r.label is None:
                raise OvidError(f"{src}: text {r.id!r} has no label; pass unlabelled corpora with --human/--machine")
            recs.append(r)
    recs += [r for s in human for r in read_corpus(s, label=HUMAN)]
    recs += [r for s in machine for r in read_corpus(s, label=MACHINE)]
    return recs


def cap_texts(recs: list[Record], n: int | None, seed: int) -> list[Record]:
    """At most n texts, taking whole source documents in a seeded order (pairs stay whole)."""
    if n is None or len(recs) <= n:
        return recs
    groups: dict[str, list[Record]] = {}
    for r in recs:
        groups.setdefault(document_key(r.text), []).append(r)
    keys = list(groups)
    out: list[Record] = []
    for i in np.random.default_rng(seed).permutation(len(keys)):
        if len(out) + len(groups[keys[i]]) > n:
            continue
        out += groups[keys[i]]
    return out


def run(args: argparse.Namespace) -> dict:
    from ovid.detect import make_detector
    from ovid.detect.registry import detector_class

    t0 = time.perf_counter()
    cls = detector_class(args.detector)
    given = {k: getattr(args, k) for k in DETECTOR_OPTIONS if getattr(args, k) is not None}
    if "models" in given:
        given["models"] = [m for m in given["models"].split(",") if m]
    unknown = sorted(set(given) - set(cls.param_names()) - {"seed"})
    if unknown:
        raise OvidError(f"--{unknown[0].replace('_', '-')} does not apply to detector {args.detector!r}")
    seed = given.get("seed", 0)
    params = {k: v for k, v in given.items() if k in cls.param_names()}
    recs = labelled_records(args.train, args.human, args.machine)
    if not recs:
        raise OvidError("no training texts: give --train, or --human and --machine")
    if args.valid:
        train, valid = recs, labelled_records(args.valid, [], [])
    else:
        train, valid = split_by_document(recs, [r.text for r in recs], test_fraction=0.2, seed=seed)
    train = cap_texts(train, args.max_texts, seed)
    for name, part in (("training", train), ("validation", valid)):
        if len({r.label for r in part}) < 2:
            raise OvidError(f"the {name} texts ({len(part)}) are all of one class; "
                            f"give more source documents or --valid files")
    det = make_detector(args.detector, **params)
    texts, labels = [r.text for r in train], [r.label for r in train]
    vtexts, vlabels = [r.text for r in valid], [r.label for r in valid]
    if cls.uses_validation:
        det.fit(texts, labels, args.target_fpr, args.calibration, valid_texts=vtexts, valid_labels=vlabels,
                out_dir=args.out, resume=args.resume, progress=args.progress)
    elif cls.trained:
        det.fit(texts, labels, args.target_fpr, args.calibration)
    else:  # zero-shot: calibrate on all the labelled texts
        det.calibrate(texts + vtexts, labels + vlabels, args.target_fpr, args.calibration)
    vscores = det.score(vtexts)
    metrics = {"detector": args.detector, "params": det.get_params(),
               "validation": summary(np.array(vlabels), vscores, args.target_fpr),
               "threshold": det.threshold_, "target_fpr": args.target_fpr,
               "fpr_at_threshold": float(np.mean(vscores[np.array(vlabels) == 0] >= det.threshold_)),
               "tpr_at_threshold": float(np.mean(vscores[np.array(vlabels) == 1] >= det.threshold_)),
               "n_train": len(train), "n_valid": len(valid), "seconds": round(time.perf_counter() - t0, 1),
               "train_state": getattr(det, "train_state_", None)}
    det.provenance_ = {"train": args.train, "human": args.human, "machine": args.machine, "valid": args.valid,
                       "max_texts": args.max_texts, "seed": seed, "n_train": len(train), "n_valid": len(valid),
                       "validation_auroc": metrics["validation"].get("auroc"), "ovid_version": __version__,
                       "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    det.save(args.out)
    write_json(args.out / "metrics.json", metrics)
    shutil.rmtree(args.out / "checkpoint", ignore_errors=True)  # the saved detector supersedes it
    return metrics


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        m = run(args)
    except OvidError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    v = m["validation"]
    extra = f", AUROC {v['auroc']:.4f}, TPR at {args.target_fpr:g} FPR {v[f'tpr_at_{args.target_fpr:g}_fpr']:.4f}" if "auroc" in v else ""
    print(f"{args.out}: {args.detector} trained on {m['n_train']} texts in {m['seconds']} s; "
          f"validation ({m['n_valid']} texts){extra}")
