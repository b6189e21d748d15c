"""Base for detectors whose score is one statistic of the scoring engine's token statistics."""
from __future__ import annotations

from typing import Callable, ClassVar, Sequence

import numpy as np

from .base import Detector
from .engine import EngineBacked
from .features import TokenStats
from .params import DEFAULT_RECIPE, ENGINE


class LMStatisticDetector(EngineBacked, Detector):
    statistic: ClassVar[Callable[[TokenStats], float]]

    def __init__(self, *, model: str = ENGINE.model, reference_model: str | None = ENGINE.reference_model,
                 dtype: str = ENGINE.dtype, max_length: int | None = ENGINE.max_length,
                 token_budget: int = ENGINE.token_budget, cache_dir: str | None = ENGINE.cache_dir,
                 normalize: str = DEFAULT_RECIPE):
        self.model = model
        self.reference_model = reference_model
        self.dtype = dtype
        self.max_length = max_length
        self.token_budget = token_budget
        self.cache_dir = cache_dir
        self.normalize = normalize  # text normalisation recipe (ovid.normalize): the evasion defence

    def _score(self, texts: list[str], ids: Sequence[str] | None, progress: bool) -> np.ndarray:
        stat = type(self).statistic
        return np.array([stat(s) for s in self.token_stats(texts, ids, progress)], dtype=np.float64)
