"""Base for detectors whose score is one statistic of the scoring engine's token statistics."""
from __future__ import annotations

from typing import Callable, ClassVar, Sequence

import numpy as np

from .base import Detector
from .engine import EngineBacked
from .features import TokenStats


class LMStatisticDetector(EngineBacked, Detector):
    statistic: ClassVar[Callable[[TokenStats], float]]

    def __init__(self, model: str = "smollm2-135m", reference_model: str | None = None,
                 dtype: str = "auto", max_length: int | None = None, token_budget: int = 4096,
                 cache_dir: str | None = None):
        self.model = model
        self.reference_model = reference_model
        self.dtype = dtype
        self.max_length = max_length
        self.token_budget = token_budget
        self.cache_dir = cache_dir

    def score(self, texts: Sequence[str], ids: Sequence[str] | None = None,
              progress: bool = False) -> np.ndarray:
        stat = type(self).statistic
        return np.array([stat(s) for s in self.token_stats(texts, ids, progress)], dtype=np.float64)
