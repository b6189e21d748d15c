"""Base for detectors that train a scikit-learn model on text features (GLTR, TF-IDF, ensembles).

`fit` calibrates on out-of-fold scores (5-fold cross-validation), then trains the final model on
all texts, so the threshold is not set on scores of texts the model has memorised."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from .base import Detector, NotFittedError, check_labelled
from .persistence import load_skops, save_skops

MODEL_FILE = "model.skops"


class SklearnTrainedDetector(Detector):
    trained = True
    state_paths = (MODEL_FILE,)

    def _features(self, texts: Sequence[str], ids=None, progress: bool = False):
        raise NotImplementedError

    def _make_model(self):
        raise NotImplementedError

    def fit(self, texts: Sequence[str], labels: Sequence[int], target_fpr: float = 0.01,
            calibration: str = "platt", *, domains: Sequence[str] | None = None, ids=None,
            progress: bool = False) -> "SklearnTrainedDetector":
        texts, labels = check_labelled(texts, labels)
        X = self._features(self.prepare(texts), ids, progress)
        folds = min(5, int(np.bincount(labels, minlength=2).min()))
        if folds >= 2:
            cv = StratifiedKFold(folds, shuffle=True, random_state=0)
            oof = cross_val_predict(self._make_model(), X, labels, cv=cv, method="decision_function")
        else:  # too few texts of one class to hold any out
            oof = self._make_model().fit(X, labels).decision_function(X)
        self.model_ = self._make_model().fit(X, labels)
        return self.calibrate_from_scores(oof, labels, target_fpr, calibration, domains)

    def _score(self, texts: list[str], ids, progress: bool) -> np.ndarray:
        if not self.is_fitted():
            raise NotFittedError(f"{self.name} must be trained first: fit(texts, labels) or "
                                 f"detect-train --detector {self.name}")
        return np.asarray(self.model_.decision_function(self._features(texts, ids, progress)), dtype=np.float64)

    def _save_state(self, folder: Path) -> list[str]:
        if getattr(self, "model_", None) is None:
            return []
        save_skops(self.model_, folder / MODEL_FILE)
        return [MODEL_FILE]

    def _load_state(self, folder: Path) -> None:
        if (folder / MODEL_FILE).exists():
            self.model_ = load_skops(folder / MODEL_FILE)
