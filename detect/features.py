"""Per-text scores from per-token statistics: pure functions, higher = more machine-like.

Each takes a `TokenStats` (numpy arrays over one text's scored tokens) and returns one float.
Sign conventions are pinned by tests/test_stats.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GLTR_EDGES = (10, 100, 1000)  # GLTR's colour buckets: top-10, top-100, top-1000, beyond


@dataclass(frozen=True)
class TokenStats:
    """One text's per-token statistics (length T each; see detect/stats.py)."""
    token_ids: np.ndarray  # (T,) int: the scored tokens
    log_prob: np.ndarray
    rank: np.ndarray
    entropy: np.ndarray
    ref_mean: np.ndarray
    ref_var: np.ndarray
    # (L, H) float32: the hidden states of the engine's `pool_layers`, averaged over the scored
    # tokens (None when the engine pools none)
    pooled: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.log_prob)


def likelihood(s: TokenStats) -> float:
    """Mean log-likelihood per token (machine text is more probable)."""
    return float(np.mean(s.log_prob))


def logrank(s: TokenStats) -> float:
    """Negative mean log-rank (machine tokens sit near the top of the model's ranking)."""
    return float(-np.mean(np.log(s.rank)))


def entropy(s: TokenStats) -> float:
    """Negative mean predictive entropy (the model is surer of itself on machine text)."""
    return float(-np.mean(s.entropy))


def lrr(s: TokenStats) -> float:
    """Log-likelihood / log-rank ratio (DetectLLM, Su et al. 2023): -sum log p / sum log r."""
    return float(-np.sum(s.log_prob) / max(np.sum(np.log(s.rank)), 1e-6))


def fast_detectgpt(s: TokenStats) -> float:
    """Analytic sampling discrepancy (Fast-DetectGPT): (sum log p - sum mean) / sqrt(sum var)."""
    return float((np.sum(s.log_prob) - np.sum(s.ref_mean)) / np.sqrt(max(np.sum(s.ref_var), 1e-12)))


def binoculars(s: TokenStats) -> float:
    """Negative Binoculars score: -(log-perplexity / cross-perplexity). With one model the
    cross term is the model's own entropy, so it degenerates to -mean(-log p) / mean(entropy)."""
    log_ppl = -np.mean(s.log_prob)
    x_ppl = -np.mean(s.ref_mean)
    return float(-log_ppl / max(x_ppl, 1e-12))


def gltr_buckets(s: TokenStats) -> np.ndarray:
    """Per-token GLTR bucket: 0 top-10, 1 top-100, 2 top-1000, 3 beyond (for colouring)."""
    return np.searchsorted(np.asarray(GLTR_EDGES), s.rank, side="left").astype(np.int8)


def gltr_fractions(s: TokenStats) -> np.ndarray:
    """Share of tokens in each GLTR bucket, (4,), summing to 1."""
    return np.bincount(gltr_buckets(s), minlength=4)[:4] / max(len(s), 1)


SCALAR_FEATURES = {"likelihood": likelihood, "logrank": logrank, "entropy": entropy, "lrr": lrr,
                   "fast-detectgpt": fast_detectgpt, "binoculars": binoculars}


def feature_vector(s: TokenStats) -> np.ndarray:
    """GLTR fractions then every scalar statistic: the trained detectors' input (10,)."""
    return np.concatenate([gltr_fractions(s), [f(s) for f in SCALAR_FEATURES.values()]])


FEATURE_NAMES = [f"gltr_top{e}" for e in GLTR_EDGES] + ["gltr_beyond"] + list(SCALAR_FEATURES)

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def token_series(s: TokenStats) -> dict[str, np.ndarray]:
    """The per-token series whose distributions are features, each signed so that higher is
    more machine-like: log-probability, negative log-rank, negative entropy, and each token's
    standardised Fast-DetectGPT discrepancy (log p - E[log p]) / sd[log p]."""
    return {"log_prob": s.log_prob, "neg_log_rank": -np.log(s.rank), "neg_entropy": -s.entropy,
            "discrepancy": (s.log_prob - s.ref_mean) / np.sqrt(np.maximum(s.ref_var, 1e-6))}


def distribution_vector(s: TokenStats) -> np.ndarray:
    """Quantiles (QUANTILES) and the standard deviation of each token series: what a mean hides
    (a text whose tokens are all moderately likely against one with a few surprises), (20,)."""
    out = []
    for v in token_series(s).values():
        v = np.asarray(v, dtype=np.float64)
        out += list(np.quantile(v, QUANTILES)) + [float(np.std(v))]
    return np.asarray(out)


DISTRIBUTION_NAMES = [f"{k}_{q}" for k in ("log_prob", "neg_log_rank", "neg_entropy", "discrepancy")
                      for q in [f"q{int(x * 100)}" for x in QUANTILES] + ["std"]]


def pooled_vector(s: TokenStats, layers: slice | list[int] | None = None) -> np.ndarray:
    """The engine's pooled hidden states (mean over scored tokens) of the chosen pooled layers,
    concatenated, (len(layers) * H,)."""
    if s.pooled is None:
        raise ValueError("these statistics carry no pooled hidden states: score with pool_layers set")
    picked = s.pooled if layers is None else s.pooled[layers]
    return np.asarray(picked, dtype=np.float64).ravel()
