"""The watermark tests' statistics, as pure functions over counts.

Under the null hypothesis (the text was written without the key) each scored unit is a coin
flip: a KGW token is green with probability gamma (exactly greenlist_size / vocab_size), a
SynthID g-value is 1 with the probability of a 1 in the sampling table. Repeated n-grams are
scored once, so the flips are independent and the count of successes is binomial: the p-value
is its exact upper tail. transformers' WatermarkDetector reports the normal tail of z instead,
which is too small for short texts (tests/test_watermark.py measures it).
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def z_score(successes, trials, p) -> np.ndarray:
    """(G - p T) / sqrt(T p (1 - p)), Kirchenbauer et al.'s z; 0 where nothing was scored."""
    g, t = np.asarray(successes, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (g - p * t) / np.sqrt(t * p * (1 - p))
    return np.where(t > 0, z, 0.0)


def binomial_p_value(successes, trials, p) -> np.ndarray:
    """P(X >= G) for X ~ Binomial(T, p): the exact one-sided p-value (1.0 where T = 0)."""
    g, t = np.asarray(successes), np.asarray(trials)
    return np.where(t > 0, stats.binom.sf(g - 1, t, p), 1.0)


def normal_p_value(z) -> np.ndarray:
    """The normal upper tail of z: what transformers' WatermarkDetector reports as its p-value."""
    return stats.norm.sf(np.asarray(z, dtype=np.float64))


def smallest_p_value(trials, p) -> np.ndarray:
    """The p-value of a text whose every unit succeeded: below alpha, or the text is too short to
    ever be found at level alpha."""
    return np.power(float(p), np.asarray(trials, dtype=np.float64))
