"""The detector protocol (scikit-learn's estimator contract, for texts).

`__init__` only stores its keyword arguments; models load lazily on first use; `fit` returns
self; learned state ends in `_`. Scores: higher = more likely machine-written. Labels: 1 machine,
0 human.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np

from ovid.errors import OvidError

from .calibration import apply_calibration, calibrate_scores


class NotFittedError(OvidError, ValueError):
    """A detector used before fit/calibrate gave it what it needs."""


class Detector:
    name: ClassVar[str] = ""  # registry name, set by @register
    trained: ClassVar[bool] = False  # False: zero-shot (fit only calibrates)
    uses_validation: ClassVar[bool] = False  # fit takes valid_texts/valid_labels, out_dir, resume

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict:
        return {p: getattr(self, p) for p in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- scoring -------------------------------------------------------------------------------
    def score(self, texts: Sequence[str]) -> np.ndarray:
        """One float per text, higher = more machine-like."""
        raise NotImplementedError

    def fit(self, texts: Sequence[str], labels: Sequence[int], target_fpr: float = 0.01,
            calibration: str = "platt") -> "Detector":
        """Zero-shot detectors: calibrate on (texts, labels). Trained ones override this."""
        return self.calibrate(texts, labels, target_fpr, calibration)

    def calibrate(self, texts: Sequence[str], labels: Sequence[int], target_fpr: float = 0.01,
                  method: str = "platt") -> "Detector":
        """Pick the threshold that lets `target_fpr` of the human texts through, and fit
        P(machine) with Platt scaling or isotonic regression."""
        return self.calibrate_from_scores(self.score(texts), labels, target_fpr, method)

    def calibrate_from_scores(self, scores, labels, target_fpr: float = 0.01, method: str = "platt"):
        self.calibration_ = calibrate_scores(np.asarray(scores), np.asarray(labels), target_fpr, method)
        return self

    def _calibration(self) -> dict:
        if getattr(self, "calibration_", None) is None:
            raise NotFittedError(f"{self.name}: call fit() or calibrate() with labelled texts first")
        return self.calibration_

    @property
    def threshold_(self) -> float:
        return self._calibration()["threshold"]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 2): columns P(human), P(machine)."""
        p = apply_calibration(self._calibration()["calibration"], self.score(texts))
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """1 (machine) where the score reaches the calibrated threshold, else 0."""
        return (self.score(texts) >= self.threshold_).astype(int)

    # -- persistence (see persistence.py) --------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        from .persistence import save_detector

        return save_detector(self, Path(folder))

    def _save_state(self, folder: Path) -> list[str]:
        """Write learned state (not config) into folder; return the file names written."""
        return []

    def _load_state(self, folder: Path) -> None:
        pass
