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

from ovid.errors import InputTypeError, InputValueError, OvidError
from ovid.normalize import RECIPES, normalize

from .calibration import apply_calibration, calibrate_scores
from .params import CALIBRATIONS


class NotFittedError(OvidError, ValueError):
    """A detector used before fit/calibrate gave it what it needs."""


def check_param(name: str, value, check) -> None:
    """Raise InputValueError naming the parameter when `check` (ovid.settings) finds a problem."""
    problem = check(value)
    if problem:
        raise InputValueError(f"{name} {problem}")


def check_texts(texts: Sequence[str]) -> list[str]:
    """The texts as a list, after checking it is a sequence of strings (scikit-learn style)."""
    if isinstance(texts, (str, bytes)):
        raise InputTypeError("texts must be a list of strings, got a single string; pass [text]")
    try:
        texts = list(texts)
    except TypeError:
        raise InputTypeError(f"texts must be a list of strings, got {type(texts).__name__}") from None
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputTypeError(f"texts[{i}] is {type(t).__name__}, not a string")
    return texts


def check_labelled(texts: Sequence[str], labels: Sequence[int]) -> tuple[list[str], np.ndarray]:
    """(texts, labels as an int array) after checking they match and every label is 0 or 1."""
    texts = check_texts(texts)
    if isinstance(labels, (str, bytes)):
        raise InputTypeError("labels must be a list of 0 (human) and 1 (machine), got a string")
    arr = np.asarray(labels)
    if arr.ndim != 1 or len(arr) != len(texts):
        raise InputValueError(f"{len(texts)} texts but {arr.size if arr.ndim else 1} labels; give one label per text")
    ok = np.isin(arr, (0, 1)) if arr.dtype.kind in "biuf" else np.zeros(len(arr), bool)
    if not ok.all():
        bad = sorted({repr(x) for x in arr[~ok].tolist()})[:3]
        raise InputValueError(f"labels must be 0 (human) or 1 (machine), got {', '.join(bad)}")
    return texts, arr.astype(int)


class PreparedTexts(list):
    """Texts after a detector's normalisation, with the share of each text's characters that the
    repairs changed (`change_ratio`): an ensemble may use it as evidence of tampering."""

    change_ratio: np.ndarray


def prepare_texts(texts: list[str], recipe: str) -> PreparedTexts:
    done = [normalize(t, recipe) for t in texts]
    out = PreparedTexts(d.text for d in done)
    out.change_ratio = np.array([d.change_ratio for d in done], dtype=np.float64)
    return out


class Detector:
    name: ClassVar[str] = ""  # registry name, set by @register
    trained: ClassVar[bool] = False  # False: zero-shot (fit only calibrates)
    uses_validation: ClassVar[bool] = False  # fit takes valid_texts/valid_labels, out_dir, resume
    state_paths: ClassVar[tuple[str, ...]] = ()  # files/folders of learned state in a saved folder
    param_aliases: ClassVar[dict[str, str]] = {}  # old parameter name -> current one

    @classmethod
    def canonical_params(cls, params: dict) -> dict:
        """`params` with old parameter names renamed (both names given is an error)."""
        out = dict(params)
        for old, new in cls.param_aliases.items():
            if old in out:
                if new in out:
                    raise InputValueError(f"give {new} or its old name {old}, not both")
                out[new] = out.pop(old)
        return out

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict:
        return {p: getattr(self, p) for p in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def check_params(self) -> "Detector":
        """Refuse parameters out of range before any work (make_detector and load_detector call
        this). Detectors with settings to check override it and call this one."""
        if "normalize" in self.param_names() and self.normalize not in RECIPES:
            raise InputValueError(f"normalize must be one of {', '.join(RECIPES)}, got {self.normalize!r}")
        return self

    def prepare(self, texts: list[str]) -> PreparedTexts:
        """The texts as this detector sees them: through its normalisation recipe (ovid.normalize),
        the same in training, calibration and scoring."""
        return texts if isinstance(texts, PreparedTexts) else prepare_texts(texts, getattr(self, "normalize", "none"))

    # -- scoring -------------------------------------------------------------------------------
    def score(self, texts: Sequence[str], ids: Sequence[str] | None = None, progress: bool = False) -> np.ndarray:
        """One float per text, higher = more machine-like."""
        return self._score(self.prepare(check_texts(texts)), ids, progress)

    def _score(self, texts: list[str], ids: Sequence[str] | None, progress: bool) -> np.ndarray:
        raise NotImplementedError

    def segment_model(self):
        """The segment model this detector's `segments` use; only detectors that read a language
        model's tokens have one."""
        raise OvidError(f"{self.name} reads no language model's tokens, so it cannot score sentences; "
                        f"segments need a detector that does (ovid:default, fast-detectgpt, likelihood, ...)")

    def can_segment(self) -> bool:
        """Whether this detector has a segment model (its spans can be asked for)."""
        try:
            self.segment_model()
        except OvidError:
            return False
        return True

    def segments(self, texts: Sequence[str], ids: Sequence[str] | None = None, progress: bool = False,
                 max_tokens: int | None = None) -> list:
        """Which parts of each text a machine wrote: per text, a list of spans (detect/segments.py)."""
        check_texts(texts)
        self.segment_model()
        raise NotImplementedError

    def segmentations(self, texts: Sequence[str], ids: Sequence[str] | None = None, progress: bool = False,
                      max_tokens: int | None = None) -> list:
        """`segments` with each sentence's range, posterior P(machine) and state (detect/segments.py)."""
        check_texts(texts)
        self.segment_model()
        raise NotImplementedError

    def fit(self, texts: Sequence[str], labels: Sequence[int], target_fpr: float = 0.01,
            calibration: str = "platt", domains: Sequence[str] | None = None) -> "Detector":
        """Zero-shot detectors: calibrate on (texts, labels). Trained ones override this."""
        return self.calibrate(texts, labels, target_fpr, calibration, domains)

    def calibrate(self, texts: Sequence[str], labels: Sequence[int], target_fpr: float = 0.01,
                  method: str = "platt", domains: Sequence[str] | None = None) -> "Detector":
        """Pick the threshold that lets `target_fpr` of the human texts through, and fit
        P(machine) with Platt scaling or isotonic regression. With `domains` (one per text)
        each domain's human texts weigh the same in the threshold."""
        texts, labels = check_labelled(texts, labels)
        return self.calibrate_from_scores(self.score(texts), labels, target_fpr, method, domains)

    def calibrate_from_scores(self, scores, labels, target_fpr: float = 0.01, method: str = "platt",
                              domains: Sequence[str] | None = None):
        if not 0 < target_fpr < 1:
            raise InputValueError(f"target_fpr must be in (0, 1), got {target_fpr!r}")
        if method not in CALIBRATIONS:
            raise InputValueError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got {method!r}")
        labels = np.asarray(labels)
        if not (labels == 0).any():
            raise InputValueError("calibration needs human texts (label 0): the threshold is set on their scores")
        if domains is not None and len(domains) != len(labels):
            raise InputValueError(f"domains: {len(domains)} given for {len(labels)} texts")
        self.calibration_ = calibrate_scores(np.asarray(scores), labels, target_fpr, method, domains)
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

        if self.trained and not self.is_fitted():
            raise NotFittedError(f"{self.name}: nothing to save; fit(texts, labels) first")
        return save_detector(self, Path(folder))

    def is_fitted(self) -> bool:
        """Trained detectors: whether fit has run (zero-shot ones score without it)."""
        return getattr(self, "model_", None) is not None

    def _save_state(self, folder: Path) -> list[str]:
        """Write learned state (not config) into folder; return the file names written."""
        return []

    def _load_state(self, folder: Path) -> None:
        pass
