"""Train (or, for zero-shot detectors, calibrate) a detector from labelled corpora and save it:
the job behind `detect-train` and `ovid train`.

Without validation files, 20% of the source documents are held out, so no article (human, or
continued by a model) is on both sides. The saved folder also gets metrics.json (validation
AUROC, TPR at the target FPR) and the detector's provenance (files, seed, counts)."""
from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ovid.atomic import write_json
from ovid.corpus import HUMAN, MACHINE, Record, read_corpus
from ovid.errors import OvidError
from ovid.metrics import summary
from ovid.settings import setting
from ovid.splits import document_key, split_by_document
from ovid.version import __version__

from .registry import detector_class, make_detector

CALIBRATIONS = ("platt", "isotonic")


@dataclass(frozen=True, kw_only=True)
class TrainJob:
    out: str = setting(help="Output folder: the saved detector, metrics.json, train_log.jsonl.")
    detector: str = setting("roberta", "Registry name (roberta, gltr, tfidf, ensemble, fast-detectgpt, ...).")
    train: list[str] = setting(factory=list, help="Labelled corpora (Fast-DetectGPT JSON, JSONL with text+label).")
    human: list[str] = setting(factory=list, help="Corpora of human text (any format).")
    machine: list[str] = setting(factory=list, help="Corpora of machine text (any format).")
    valid: list[str] = setting(factory=list, help="Labelled validation corpora; default: 20% of the source "
                               "documents held out.")
    max_texts: int | None = setting(None, "Use at most N training texts (whole source documents, chosen by seed).")
    seed: int = setting(0, "Random seed of the split and of --max-texts (and the detector's, when it takes one).")
    target_fpr: float = setting(0.01, "False-positive rate the threshold is set for.")
    calibration: str = setting("platt", "Probability calibration: platt or isotonic.")
    resume: bool = setting(False, "Continue an interrupted roberta run from its checkpoint.")
    progress: bool = setting(True, "Show progress bars.")
    params: dict[str, Any] = setting(factory=dict, help="The detector's parameters (make_detector's keywords).")


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


def check_params(job: TrainJob) -> type:
    """The detector's class, after checking every parameter applies to it."""
    cls = detector_class(job.detector)
    unknown = sorted(set(job.params) - set(cls.param_names()))
    if unknown:
        raise OvidError(f"--{unknown[0].replace('_', '-')} does not apply to detector {job.detector!r}")
    if job.calibration not in CALIBRATIONS:
        raise OvidError(f"--calibration must be one of {', '.join(CALIBRATIONS)}, got {job.calibration!r}")
    return cls


def train_detector(job: TrainJob) -> dict:
    """Run the job; returns its metrics (also written to OUT/metrics.json)."""
    t0 = time.perf_counter()
    cls = check_params(job)
    out = Path(job.out)
    recs = labelled_records(job.train, job.human, job.machine)
    if not recs:
        raise OvidError("no training texts: give --train, or --human and --machine")
    if job.valid:
        train, valid = recs, labelled_records(job.valid, [], [])
    else:
        train, valid = split_by_document(recs, [r.text for r in recs], test_fraction=0.2, seed=job.seed)
    train = cap_texts(train, job.max_texts, job.seed)
    for name, part in (("training", train), ("validation", valid)):
        if len({r.label for r in part}) < 2:
            raise OvidError(f"the {name} texts ({len(part)}) are all of one class; "
                            f"give more source documents or --valid files")
    params = dict(job.params)
    if "seed" in cls.param_names():
        params.setdefault("seed", job.seed)
    det = make_detector(job.detector, **params)
    texts, labels = [r.text for r in train], [r.label for r in train]
    vtexts, vlabels = [r.text for r in valid], [r.label for r in valid]
    if cls.uses_validation:
        det.fit(texts, labels, job.target_fpr, job.calibration, valid_texts=vtexts, valid_labels=vlabels,
                out_dir=out, resume=job.resume, progress=job.progress)
    elif cls.trained:
        det.fit(texts, labels, job.target_fpr, job.calibration)
    else:  # zero-shot: calibrate on all the labelled texts
        det.calibrate(texts + vtexts, labels + vlabels, job.target_fpr, job.calibration)
    vscores = det.score(vtexts)
    vlab = np.array(vlabels)
    metrics = {"detector": job.detector, "params": det.get_params(),
               "validation": summary(vlab, vscores, job.target_fpr),
               "threshold": det.threshold_, "target_fpr": job.target_fpr,
               "fpr_at_threshold": float(np.mean(vscores[vlab == 0] >= det.threshold_)),
               "tpr_at_threshold": float(np.mean(vscores[vlab == 1] >= det.threshold_)),
               "n_train": len(train), "n_valid": len(valid), "seconds": round(time.perf_counter() - t0, 1),
               "train_state": getattr(det, "train_state_", None)}
    det.provenance_ = {"train": job.train, "human": job.human, "machine": job.machine, "valid": job.valid,
                       "max_texts": job.max_texts, "seed": job.seed, "n_train": len(train), "n_valid": len(valid),
                       "validation_auroc": metrics["validation"].get("auroc"), "ovid_version": __version__,
                       "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    det.save(out)
    write_json(out / "metrics.json", metrics)
    shutil.rmtree(out / "checkpoint", ignore_errors=True)  # the saved detector supersedes it
    return metrics
