"""A study's detectors: each [[detectors]] entry fitted (or, zero-shot, calibrated) on the
training half and saved, then reused while its key (name, parameters, FPR, texts) is unchanged."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ovid.detect import load_detector, make_detector
from ovid.detect.persistence import SHIPPED_PREFIX
from ovid.detect.registry import detector_class
from ovid.hashing import digest

from .config import DetectorSection, StudyConfig
from .corpora import Split, texts


def build_detector(spec: DetectorSection, train: list[str], labels: list[int], cfg: StudyConfig,
                   folder: Path, cache: Path, domains: list[str] | None = None):
    """(detector, reused): fitted or calibrated on `train`, or loaded from `folder` when its
    key matches. Engine-backed detectors share the study's token-statistics cache."""
    if spec.name.startswith(SHIPPED_PREFIX):  # shipped: trained elsewhere, used as it is
        det = load_detector(spec.name)
        if "cache_dir" in det.param_names():
            det.cache_dir = str(cache)
        return det, True
    cls = detector_class(spec.name)
    params = dict(spec.params)
    if "cache_dir" in cls.param_names() and "cache_dir" not in params:
        params["cache_dir"] = str(cache)
    key = digest([spec.name, spec.params, cfg.study.target_fpr, train, labels, domains])
    marker = folder / "study-key.txt"
    if marker.exists() and marker.read_text() == key:
        det = load_detector(folder)
        if "cache_dir" in params:
            det.cache_dir = params["cache_dir"]
        return det, True
    det = make_detector(spec.name, **params)
    if cls.trained:
        det.fit(train, labels, cfg.study.target_fpr, domains=domains)
    else:  # zero-shot: the threshold comes from the held-out (training-side) human texts
        det.calibrate(train, labels, cfg.study.target_fpr, domains=domains)
    det.save(folder)
    marker.write_text(key)
    return det, False


def trained_on(det, spec: DetectorSection, n_study: int) -> int:
    """How many texts fitted (or calibrated) the detector: the study's training half, or for a
    shipped detector the count it was trained on."""
    if spec.name.startswith(SHIPPED_PREFIX):
        return int((det.provenance_ or {}).get("n_train") or 0)
    return n_study


def detector_slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in label).strip("-")


def score(det, batch: list[str]) -> np.ndarray:
    return np.asarray(det.decision_function(batch), dtype=float) if batch else np.zeros(0)


def train_texts(split: Split, names: list[str] | None = None) -> tuple[list[str], list[int]]:
    """The training half: human texts (0) and the machine texts (1) of `names` (all corpora)."""
    machine = [r for n, recs in split.train.items() if names is None or n in names for r in recs]
    return texts(split.human_train) + texts(machine), [0] * len(split.human_train) + [1] * len(machine)
