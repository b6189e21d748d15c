"""Turning scores into decisions and probabilities; learned state is plain numbers (JSON-safe)."""
from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from ovid.errors import InputValueError
from ovid.metrics import fpr_by_group, threshold_at_fpr


def fit_calibration(scores: np.ndarray, labels: np.ndarray, method: str = "platt") -> dict:
    """Platt (a logistic curve on the score) or isotonic; returns a JSON-safe description."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    if len(np.unique(labels)) < 2:
        raise InputValueError("calibration needs both human (0) and machine (1) texts")
    if method == "platt":
        lr = LogisticRegression(C=1e6).fit(scores.reshape(-1, 1), labels)
        return {"method": "platt", "coef": float(lr.coef_[0, 0]), "intercept": float(lr.intercept_[0])}
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)
        return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    raise InputValueError(f"unknown calibration method {method!r}; choose platt or isotonic")


def calibration_ok(cal: dict) -> bool:
    """Whether a saved calibration has the form fit_calibration writes (finite numbers, x and y
    of one length with x non-decreasing), so a hand-edited config.json fails on load, not on use."""
    def number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v))

    if cal.get("method") == "platt":
        return number(cal.get("coef")) and number(cal.get("intercept"))
    if cal.get("method") == "isotonic":
        x, y = cal.get("x"), cal.get("y")
        return (isinstance(x, list) and isinstance(y, list) and 0 < len(x) == len(y)
                and all(map(number, x + y)) and all(a <= b for a, b in zip(x, x[1:])))
    return False


def apply_calibration(cal: dict, scores: np.ndarray) -> np.ndarray:
    """P(machine) for each score."""
    scores = np.asarray(scores, dtype=np.float64)
    if cal["method"] == "platt":
        return 1.0 / (1.0 + np.exp(-(cal["coef"] * scores + cal["intercept"])))
    return np.interp(scores, cal["x"], cal["y"])


DISTRIBUTION_BINS = 30


def score_distributions(scores: np.ndarray, labels: np.ndarray, bins: int = DISTRIBUTION_BINS) -> dict:
    """Histograms of the human and the machine scores over shared edges (the 0.5th to 99.5th
    percentile of all scores; the few beyond fall in the end bins): what a reader compares one
    text's score with. JSON-safe: {"edges": [bins + 1], "human": [bins], "machine": [bins]}."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    lo, hi = np.percentile(scores, [0.5, 99.5])
    if not hi - lo > 1e-9 * max(1.0, abs(lo), abs(hi)):  # (nearly) one value: a bin either side of it
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    clipped = np.clip(scores, lo, hi)
    return {"edges": [float(e) for e in edges],
            **{name: np.histogram(clipped[labels == v], edges)[0].tolist() for name, v in (("human", 0), ("machine", 1))}}


def calibrate_scores(scores: np.ndarray, labels: np.ndarray, target_fpr: float, method: str,
                     domains=None, every_domain: bool = False) -> dict:
    """Threshold at target_fpr on the human scores, plus a probability calibration. With
    `domains` (one per text) the human texts are pooled over domains with equal weight per
    domain (with `every_domain`, each domain is held to target_fpr on its own), and the result
    records each domain's false-positive rate at the threshold."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    human_domains = None if domains is None else np.asarray(domains, dtype=str)[labels == 0]
    out = {"target_fpr": target_fpr,
           "threshold": threshold_at_fpr(scores[labels == 0], target_fpr, human_domains, every_domain),
           "calibration": fit_calibration(scores, labels, method),
           "distributions": score_distributions(scores, labels)}
    if human_domains is not None:
        out["fpr_by_domain"] = fpr_by_group(scores[labels == 0], human_domains, out["threshold"])
    return out
