"""Detection metrics as pure functions over labels (1 = machine) and scores (higher = machine)."""
from __future__ import annotations

import numpy as np


def threshold_at_fpr(human_scores: np.ndarray, target_fpr: float, groups=None, every_group: bool = False) -> float:
    """Lowest threshold t with share(human >= t) <= target_fpr (predict machine when score >= t).
    With `groups` (one label per score, e.g. each text's domain) the share is the mean over the
    groups of each group's share: every domain weighs the same, however many texts it has. With
    `every_group` too, each group's own share is held to target_fpr (the highest of the groups'
    thresholds): a stricter promise, which also holds better on a domain no group covers."""
    h = np.asarray(human_scores, dtype=np.float64)
    if len(h) == 0:
        raise ValueError("no human scores to calibrate a threshold on")
    if every_group and groups is not None:
        g = np.asarray(groups, dtype=str)
        return max(threshold_at_fpr(h[g == v], target_fpr) for v in np.unique(g))
    if groups is None:
        w = np.full(len(h), 1.0 / len(h))
    else:
        _, inverse, counts = np.unique(np.asarray(groups, dtype=str), return_inverse=True, return_counts=True)
        w = 1.0 / (len(counts) * counts[inverse])
    order = np.argsort(-h, kind="stable")
    h, w = h[order], w[order]
    # k = human texts allowed above the threshold: the longest top run whose weight fits
    k = int(np.searchsorted(np.cumsum(w), target_fpr + 1e-9, side="right"))
    if k >= len(h):
        return float("-inf")
    return float(np.nextafter(h[k], np.inf))


def rate_interval(flags, n_boot: int = 1000, seed: int = 0) -> dict:
    """A rate (share of True) with its percentile-bootstrap 95% interval."""
    flags = np.asarray(flags, dtype=np.float64)
    if len(flags) == 0 or n_boot == 0:
        rate = float(flags.mean()) if len(flags) else float("nan")
        return {"n": int(len(flags)), "rate": rate, "lo": float("nan"), "hi": float("nan")}
    draws = np.random.default_rng(seed).choice(flags, (n_boot, len(flags))).mean(axis=1)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return {"n": int(len(flags)), "rate": float(flags.mean()), "lo": float(lo), "hi": float(hi)}


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial rate k/n: it never claims certainty the
    counts cannot give (0 of 50 is [0, 0.071], not the bootstrap's [0, 0])."""
    from scipy.stats import beta

    if n <= 0:
        return float("nan"), float("nan")
    a = (1 - confidence) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def exact_rate(k: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """(k / n, its exact Clopper-Pearson interval); NaN all three for n = 0."""
    lo, hi = clopper_pearson(k, n, confidence)
    return (k / n if n > 0 else float("nan")), lo, hi


def fpr_by_group(human_scores, groups, threshold: float, confidence: float = 0.95) -> dict[str, dict]:
    """Per group (domain) of human texts: n, the false-positive rate at `threshold` and its exact
    (Clopper-Pearson) interval, as {"n", "fpr", "fpr_lo", "fpr_hi"}."""
    h, g = np.asarray(human_scores, dtype=np.float64), np.asarray(groups, dtype=str)
    out = {}
    for name in sorted(set(g.tolist())):
        flags = h[g == name] >= threshold
        lo, hi = clopper_pearson(int(flags.sum()), len(flags), confidence)
        out[name] = {"n": int(len(flags)), "fpr": float(flags.mean()), "fpr_lo": lo, "fpr_hi": hi}
    return out


def auroc_of(human: np.ndarray, machine: np.ndarray) -> float:
    """AUROC as P(machine score > human score), ties counting half (Mann-Whitney U): exact
    for any ties, and one sort, so the bootstrap can call it a thousand times."""
    from scipy.stats import rankdata  # here: scipy.stats takes ~0.6 s to import

    both = np.concatenate([human, machine])
    if np.isnan(both).any():
        raise ValueError("AUROC of scores with NaN: a detector returned no score for some text")
    ranks = rankdata(both)
    n0, n1 = len(human), len(machine)
    return float((ranks[n0:].sum() - n1 * (n1 + 1) / 2) / (n0 * n1))


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUROC of scores against labels (1 = machine); both classes must be present."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    if not 0 < np.sum(labels == 1) < len(labels):
        raise ValueError("AUROC needs both human (0) and machine (1) labels")
    return auroc_of(scores[labels == 0], scores[labels == 1])


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
