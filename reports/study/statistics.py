"""Detection metrics with 95% intervals, as pure functions over score arrays.

The threshold is fixed before testing (calibrated on held-out human text, or by the trained
detector's out-of-fold calibration); the test texts only measure it. A rate that counts k of n
texts (TPR, FPR, accuracy) gets the exact (Clopper-Pearson) interval: the percentile bootstrap
gives 0 of 50 the interval [0, 0], a certainty 50 texts cannot give. AUROC and F1, which are no
share of texts, keep the percentile bootstrap.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

from ovid.metrics import auroc_of, clopper_pearson, exact_rate

EXACT = ("tpr", "fpr", "accuracy")  # shares of texts: exact binomial intervals
BOOTSTRAP = ("auroc", "f1")  # not a share of texts: percentile bootstrap intervals


def point_metrics(human: np.ndarray, machine: np.ndarray, threshold: float) -> dict[str, float]:
    tp = float(np.sum(machine >= threshold))
    fp = float(np.sum(human >= threshold))
    fn, tn = len(machine) - tp, len(human) - fp
    return {"auroc": auroc_of(human, machine), "tpr": tp / len(machine), "fpr": fp / len(human),
            "accuracy": (tp + tn) / (len(human) + len(machine)),
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0}


def detection_metrics(human: np.ndarray, machine: np.ndarray, threshold: float,
                      n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """AUROC, TPR, FPR, accuracy and F1 at `threshold`, each with a 95% interval (`*_lo`, `*_hi`):
    exact (Clopper-Pearson) for TPR, FPR and accuracy, whatever `n_boot`; percentile bootstrap
    for AUROC and F1 from `n_boot` resamples of the human and machine texts drawn independently
    (NaN when `n_boot` is 0)."""
    human, machine = np.asarray(human, float), np.asarray(machine, float)
    out = point_metrics(human, machine, threshold)
    tp, fp = int(np.sum(machine >= threshold)), int(np.sum(human >= threshold))
    counts = {"tpr": (tp, len(machine)), "fpr": (fp, len(human)),
              "accuracy": (tp + len(human) - fp, len(human) + len(machine))}
    for m in EXACT:
        out[f"{m}_lo"], out[f"{m}_hi"] = clopper_pearson(*counts[m])
    rng = np.random.default_rng(seed)
    draws = {m: [] for m in BOOTSTRAP}
    for _ in range(n_boot):
        b = point_metrics(rng.choice(human, len(human)), rng.choice(machine, len(machine)), threshold)
        for m in BOOTSTRAP:
            draws[m].append(b[m])
    for m in BOOTSTRAP:
        lo, hi = np.percentile(draws[m], [2.5, 97.5]) if n_boot else (np.nan, np.nan)
        out[f"{m}_lo"], out[f"{m}_hi"] = float(lo), float(hi)
    out["threshold"] = float(threshold)
    return out


def roc_points(human: np.ndarray, machine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.r_[np.zeros(len(human)), np.ones(len(machine))]
    fpr, tpr, _ = roc_curve(labels, np.r_[human, machine])
    return fpr, tpr


def rate_columns(name: str, hits) -> dict[str, float]:
    """{name: the share of True in `hits`, name_lo, name_hi: its exact (Clopper-Pearson) 95%
    interval}; all NaN for no texts."""
    hits = np.asarray(hits, dtype=bool)
    rate, lo, hi = exact_rate(int(hits.sum()), len(hits))
    return {name: rate, f"{name}_lo": lo, f"{name}_hi": hi}
