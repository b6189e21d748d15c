"""Detection metrics as pure functions over labels (1 = machine) and scores (higher = machine)."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def threshold_at_fpr(human_scores: np.ndarray, target_fpr: float) -> float:
    """Lowest threshold t with share(human >= t) <= target_fpr (predict machine when score >= t)."""
    h = np.sort(np.asarray(human_scores, dtype=np.float64))[::-1]
    if len(h) == 0:
        raise ValueError("no human scores to calibrate a threshold on")
    k = int(np.floor(target_fpr * len(h) + 1e-9))  # human texts allowed above the threshold
    if k >= len(h):
        return float("-inf")
    return float(np.nextafter(h[k], np.inf))


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(np.asarray(labels), np.asarray(scores)))


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, target_fpr: float = 0.01) -> float:
    """Share of machine texts caught at the threshold that lets through target_fpr of human ones."""
    labels, scores = np.asarray(labels), np.asarray(scores)
    t = threshold_at_fpr(scores[labels == 0], target_fpr)
    return float(np.mean(scores[labels == 1] >= t))


def summary(labels, scores, target_fpr: float = 0.01) -> dict:
    """n, AUROC and TPR at target_fpr, or only n when one class is missing."""
    labels = np.asarray(labels)
    out = {"n": int(len(labels)), "n_machine": int(np.sum(labels == 1))}
    if 0 < out["n_machine"] < len(labels):
        out["auroc"] = auroc(labels, scores)
        out[f"tpr_at_{target_fpr:g}_fpr"] = tpr_at_fpr(labels, scores, target_fpr)
    return out
