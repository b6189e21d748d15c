"""GLTR (Gehrmann et al. 2019) as a trained detector: the shares of tokens in the scoring model's
top-10, top-100, top-1000 and beyond, plus every one-pass statistic, into a logistic regression.
`token_buckets` gives the per-token buckets that reports colour (green, yellow, red, purple)."""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ovid.settings import positive

from .base import check_param
from .engine import EngineBacked
from .features import feature_vector, gltr_buckets
from .params import DEFAULT_RECIPE, ENGINE
from .registry import register
from .sklearn_trained import SklearnTrainedDetector


@register("gltr")
class GLTR(EngineBacked, SklearnTrainedDetector):
    def __init__(self, *, model: str = ENGINE.model, dtype: str = ENGINE.dtype,
                 max_length: int | None = ENGINE.max_length, token_budget: int = ENGINE.token_budget,
                 cache_dir: str | None = ENGINE.cache_dir, C: float = 1.0,
                 normalize: str = DEFAULT_RECIPE):
        self.model = model
        self.dtype = dtype
        self.max_length = max_length
        self.token_budget = token_budget
        self.cache_dir = cache_dir
        self.C = C
        self.normalize = normalize

    def check_params(self) -> "GLTR":
        check_param("C", self.C, positive())
        return super().check_params()

    def _features(self, texts, ids=None, progress=False):
        return np.stack([feature_vector(s) for s in self.token_stats(texts, ids, progress)])

    def _make_model(self):
        return Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(C=self.C, max_iter=2000))])

    def token_buckets(self, text: str) -> list[tuple[str, int]]:
        """(token text, bucket 0-3) for each token of `text`, for GLTR-style colouring."""
        engine = self.engine()  # the same engine (and statistics cache) as scoring
        s = engine.token_stats(self.prepare([text]))[0]
        tok = engine.tokenizer
        pieces = [tok.decode([int(t)]) for t in s.token_ids]
        return list(zip(pieces, gltr_buckets(s).tolist()))
