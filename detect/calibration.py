"""Turning scores into decisions and probabilities; learned state is plain numbers (JSON-safe).

P(machine) depends on how common machine text is among the texts checked (the prior), which no
detector knows. The calibration map gives P_c(s) for texts mixed as its calibration set was, a
share c of them machine; Bayes (posterior odds = likelihood ratio x prior odds) moves it to any
share q:  logit P_q(s) = logit P_c(s) - logit c + logit q.  The threshold t is the even-odds line
at the share q* with logit q* = logit c - logit P_c(t), and there
logit P_q*(s) = logit P_c(s) - logit P_c(t),  which is >= 0 exactly when s >= t (the map rises with
the score). So ovid states P(machine) at the prior q*: at least 50% when the text is flagged, at
most 50% when it is not, and a reader who expects machine text k times as often (in odds) multiplies
its odds by k. A model whose log-odds hold for balanced classes (c = 1/2, a segment model's spans)
is the same sum with logit c = 0.
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ovid.errors import InputValueError
from ovid.metrics import fpr_by_group, threshold_at_fpr


def fit_calibration(scores: np.ndarray, labels: np.ndarray, method: str = "platt") -> dict:
    """Platt (a logistic curve on the score) or isotonic; returns a JSON-safe description."""
    # here, not at the top: `ovid score` imports this module before it has checked its inputs
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

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
        return expit(cal["coef"] * scores + cal["intercept"])
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
            **{name: np.histogram(clipped[labels == v], edges)[0].tolist()
               for name, v in (("human", 0), ("machine", 1))}}


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


# -- P(machine) at a stated prior (module docstring) ---------------------------------------------
def logit(p, floor: float = 1e-12) -> np.ndarray:
    """log(p / (1 - p)), with p held within [floor, 1 - floor] so it stays finite."""
    p = np.clip(np.asarray(p, dtype=np.float64), floor, 1 - floor)
    return np.log(p) - np.log1p(-p)


def expit(x) -> np.ndarray:
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))


def even_odds(log_odds, log_odds_threshold: float, log_odds_mix: float = 0.0) -> tuple[np.ndarray, float]:
    """(P(machine) per text, the prior q* it holds at) from log-odds that hold for texts with machine
    odds exp(`log_odds_mix`): moved to the share q* of machine texts at which the threshold's
    log-odds are even odds, so P(machine) >= 0.5 exactly where log_odds >= log_odds_threshold."""
    shifted = np.asarray(log_odds, dtype=np.float64) - log_odds_threshold
    return expit(shifted), float(expit(log_odds_mix - log_odds_threshold))


def at_threshold_prior(p_cal, p_cal_threshold: float, humans: int, machines: int,
                       floor: float = 1e-12) -> tuple[np.ndarray, float]:
    """(P(machine) per text, the prior it holds at) from the calibration map's P_c of each score
    and of the threshold, and the calibration set's counts. `floor`: the least probability the map
    tells from 0 (and 1 - floor from 1), so its logit stays finite."""
    return even_odds(logit(p_cal, floor), float(logit(p_cal_threshold, floor)), math.log(machines / humans))


def rises(calibration: dict) -> bool:
    """Whether a calibration map's P(machine) rises with the score (a Platt curve fitted to a
    detector that scores human texts higher falls)."""
    if calibration.get("method") == "platt":
        return calibration["coef"] > 0
    return calibration.get("method") == "isotonic" and bool(np.all(np.diff(calibration["y"]) >= 0))


def p_machine_at(cal: dict, scores, prior: float | None = None) -> tuple[np.ndarray, float] | None:
    """(P(machine) per score, the prior it holds at) from a detector's calibration (what
    calibrate_scores returns): at the share `prior` of machine-written texts, or with None at the
    threshold's even-odds prior. None where the calibration lacks its counts of human and machine
    texts (saved before it kept them) or its map does not rise with the score."""
    if prior is not None and not (isinstance(prior, Real) and 0 < prior < 1):
        raise InputValueError(f"prior must be a share of machine-written texts in (0, 1), got {prior!r}")
    dist = cal.get("distributions") or {}
    humans, machines = sum(dist.get("human", [])), sum(dist.get("machine", []))
    if not (humans and machines) or not rises(cal["calibration"]):
        return None
    # an isotonic map is a step of frequencies that reaches 0 and 1: n texts tell no rarer than 1 in n
    floor = 1 / (humans + machines + 2) if cal["calibration"]["method"] == "isotonic" else 1e-12
    p_cal = apply_calibration(cal["calibration"], scores)
    if prior is None:
        (p_cal_threshold,) = apply_calibration(cal["calibration"], [cal["threshold"]])
        return at_threshold_prior(p_cal, p_cal_threshold, humans, machines, floor)
    return expit(logit(p_cal, floor) - math.log(machines / humans) + float(logit(prior))), float(prior)


def reported(p: float, prior: float) -> tuple[float, float]:
    """P(machine) and its prior as ovid writes them: P to 6 decimals, the prior (often 1 in some
    hundreds) to 6 significant figures."""
    return round(float(p), 6), float(f"{prior:.6g}")


def reported_p_machine(cal: dict | None, scores, flags) -> list[tuple[float | None, float | None]]:
    """Per score, (P(machine), its prior) at the threshold's prior, as written beside the decision
    `flags` gives it; (None, None) where the calibration cannot state it (p_machine_at), where
    there is no decision, or where the number would contradict it (a decision made on something
    other than the threshold)."""
    stated = p_machine_at(cal, scores) if cal else None
    if stated is None:
        return [(None, None)] * len(flags)
    ps, prior = stated
    return [reported(p, prior) if f is not None and (p >= 0.5 if f else p <= 0.5) else (None, None)
            for p, f in zip(ps, flags)]
