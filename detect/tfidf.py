"""The gpt-2-output-dataset baseline: word 1-2-gram TF-IDF + logistic regression."""
from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from ovid.settings import at_least, positive

from .base import check_param
from .params import DEFAULT_RECIPE
from .registry import register
from .sklearn_trained import SklearnTrainedDetector


@register("tfidf")
class TfidfDetector(SklearnTrainedDetector):
    def __init__(self, *, max_features: int | None = 2 ** 18, min_df: int = 1, C: float = 10.0,
                 normalize: str = DEFAULT_RECIPE):
        self.max_features = max_features  # vocabulary cap (most frequent 1-2-grams)
        self.min_df = min_df
        self.C = C  # inverse regularisation of the logistic regression
        self.normalize = normalize

    def check_params(self) -> "TfidfDetector":
        check_param("max_features", self.max_features, at_least(1, optional=True))
        check_param("min_df", self.min_df, at_least(1))
        check_param("C", self.C, positive())
        return super().check_params()

    def _features(self, texts, ids=None, progress=False):
        return list(texts)

    def _make_model(self):
        return Pipeline([
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), max_features=self.max_features,
                                      min_df=self.min_df, sublinear_tf=True)),
            ("lr", LogisticRegression(C=self.C, max_iter=2000)),
        ])
