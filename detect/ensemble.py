"""Ensemble: a scikit-learn model over the one-pass statistics of one or more scoring models
(GLTR bucket shares, likelihood, log-rank, entropy, LRR, Fast-DetectGPT, Binoculars), with a
saved classifier's score as an optional extra input.

`features` chooses how much of the one pass the model sees:
- "stats": the ten per-text statistics (detect/features.feature_vector);
- "distributions": those plus the quantiles and spread of the per-token series
  (detect/features.distribution_vector);
- "hidden": those plus the scoring model's hidden states of `pool_layers`, averaged over the
  text's scored tokens (computed by the engine in the same forward pass).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ovid.errors import InputValueError
from ovid.settings import one_of, positive

from .base import check_param
from .engine import EngineBacked
from .features import distribution_vector, feature_vector, pooled_vector
from .params import DEFAULT_RECIPE, ENGINE
from .registry import register
from .sklearn_trained import SklearnTrainedDetector

FEATURE_SETS = ("stats", "distributions", "hidden")


def text_features(stats, features: str = "stats") -> np.ndarray:
    """One text's feature vector for a feature set (module docstring)."""
    parts = [feature_vector(stats)]
    if features in ("distributions", "hidden"):
        parts.append(distribution_vector(stats))
    if features == "hidden":
        parts.append(pooled_vector(stats))
    return np.concatenate(parts)


@register("ensemble")
class Ensemble(EngineBacked, SklearnTrainedDetector):
    def __init__(self, *, models: Sequence[str] | None = None, dtype: str = ENGINE.dtype,
                 classifier: str | None = None, learner: str = "logistic", C: float = 1.0,
                 max_length: int | None = ENGINE.max_length, token_budget: int = ENGINE.token_budget,
                 cache_dir: str | None = ENGINE.cache_dir, normalize: str = DEFAULT_RECIPE, tamper_feature: bool = False,
                 features: str = "stats", pool_layers: Sequence[int] | None = None):
        # kept as given (scikit-learn's clone checks identity); None: the default, so a saved folder's JSON matches
        self.models = models  # scoring models whose statistics are features (None: the engine's default model)
        self.dtype = dtype
        self.classifier = classifier  # folder of a saved detector whose score is one more feature
        self.learner = learner  # logistic (regression) or gbm (gradient boosting)
        self.C = C
        self.max_length = max_length
        self.token_budget = token_budget
        self.cache_dir = cache_dir
        self.normalize = normalize
        self.tamper_feature = tamper_feature  # the share of characters normalisation repaired, as a feature
        self.features = features  # stats, distributions or hidden (module docstring)
        self.pool_layers = pool_layers  # with features="hidden": the scoring models' hidden-state layers (None: none)

    def models_used(self) -> list[str]:
        return [ENGINE.model] if self.models is None else list(self.models)

    def pooled_layers(self) -> list[int]:
        return list(self.pool_layers or ())

    def check_params(self) -> "Ensemble":
        if isinstance(self.models, str) or (self.models is not None and not self.models):
            raise InputValueError(f"models must be a non-empty list of scoring models, got {self.models!r}")
        check_param("C", self.C, positive())
        check_param("learner", self.learner, one_of("logistic", "gbm"))
        check_param("features", self.features, one_of(*FEATURE_SETS))
        if isinstance(self.pool_layers, (str, bytes)) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in self.pool_layers or ()):
            raise InputValueError(f"pool_layers must be a list of layer indices, got {self.pool_layers!r}")
        if (self.features == "hidden") != bool(self.pool_layers):
            raise InputValueError("features='hidden' needs pool_layers (the hidden-state layers to pool), "
                                  "and pool_layers needs features='hidden'")
        return super().check_params()

    _classifier_det = None  # the saved classifier, loaded on first use

    @property
    def model(self) -> str:
        """The first scoring model: whose statistics `token_stats` returns."""
        return self.models_used()[0]

    def _features(self, texts, ids=None, progress=False):
        cols = []
        for m in self.models_used():
            cols.append(np.stack([text_features(s, self.features) for s in self.engine(m).token_stats(texts, ids, progress)]))
        if self.classifier:
            from .persistence import load_detector
            if self._classifier_det is None:
                self._classifier_det = load_detector(Path(self.classifier))
            cols.append(self._classifier_det.decision_function(texts).reshape(-1, 1))
        if self.tamper_feature:
            cols.append(np.log1p(100 * getattr(texts, "change_ratio", np.zeros(len(texts)))).reshape(-1, 1))
        return np.concatenate(cols, axis=1)

    def _make_model(self):
        if self.learner == "gbm":
            return GradientBoostingClassifier(random_state=0)
        if self.learner == "logistic":
            return Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(C=self.C, max_iter=5000))])
        raise ValueError(f"unknown learner {self.learner!r}; choose logistic or gbm")
