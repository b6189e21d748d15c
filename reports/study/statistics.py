"""Detection metrics with bootstrap 95% intervals, as pure functions over score arrays.

The threshold is fixed before testing (calibrated on held-out human text, or by the trained
detector's out-of-fold calibration); the test texts only measure it.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

from ovid.metrics import auroc_of

METRICS = ("auroc", "tpr", "accuracy", "f1")


def point_metrics(human: np.ndarray, machine: np.ndarray, threshold: float) -> dict[str, float]:
    tp = float(np.sum(machine >= threshold))
    fp = float(np.sum(human >= threshold))
    fn, tn = len(machine) - tp, len(human) - fp
    return {"auroc": auroc_of(human, machine), "tpr": tp / len(machine), "fpr": fp / len(human),
            "accuracy": (tp + tn) / (len(human) + len(machine)),
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0}


def detection_metrics(human: np.ndarray, machine: np.ndarray, threshold: float,
                      n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """AUROC, TPR, FPR, accuracy and F1 at `threshold`, with percentile bootstrap intervals
    (`*_lo`, `*_hi`) from resampling the human and machine texts independently."""
    human, machine = np.asarray(human, float), np.asarray(machine, float)
    out = point_metrics(human, machine, threshold)
    rng = np.random.default_rng(seed)
    draws = {m: [] for m in METRICS}
    for _ in range(n_boot):
        b = point_metrics(rng.choice(human, len(human)), rng.choice(machine, len(machine)), threshold)
        for m in METRICS:
            draws[m].append(b[m])
    for m in METRICS:
        lo, hi = np.percentile(draws[m], [2.5, 97.5]) if n_boot else (np.nan, np.nan)
        out[f"{m}_lo"], out[f"{m}_hi"] = float(lo), float(hi)
    out["threshold"] = float(threshold)
    return out


def roc_points(human: np.ndarray, machine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.r_[np.zeros(len(human)), np.ones(len(machine))]
    fpr, tpr, _ = roc_curve(labels, np.r_[human, machine])
    return fpr, tpr
