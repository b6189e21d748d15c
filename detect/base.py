"""The detector protocol (scikit-learn's estimator contract, for texts).

`__init__` only stores its keyword arguments; models load lazily on first use; `fit` returns
self; learned state ends in `_`. Scores: higher = more likely machine-written. Labels: 1 machine,
0 human.
"""
from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin

from ovid.errors import InputTypeError, InputValueError, OvidError
from ovid.normalize import RECIPES, normalize

from .calibration import apply_calibration, calibrate_scores, p_machine_at
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
    if issparse(texts):
        raise InputTypeError("texts must be a list of strings, got a sparse matrix (sparse input is not supported)")
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


class Detector(ClassifierMixin, BaseEstimator):
    """Every detector, on scikit-learn's own base classes, so `clone`, `Pipeline`, `GridSearchCV`
    and `cross_val_score` take it: X is a list of texts, y 0 (human) / 1 (machine)."""

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

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # a list of texts, not a matrix
        tags.input_tags.string = True
        tags.classifier_tags.multi_class = False  # human or machine
        tags.target_tags.required = self.trained
        return tags

    @property
    def classes_(self) -> np.ndarray:
        """The labels predict returns: 0 human, 1 machine."""
        return np.array([0, 1])

    def check_params(self) -> "Detector":
        """Refuse parameters out of range before any work (make_detector and load_detector call
        this). Detectors with settings to check override it and call this one."""
        if "normalize" in self.param_names() and self.normalize not in RECIPES:
            raise InputValueError(f"normalize must be one of {', '.join(RECIPES)}, got {self.normalize!r}")
        return self

    def prepare(self, texts: list[str]) -> PreparedTexts:
        """The texts as this detector sees them: through its normalisation recipe (ovid.normalize),
        the same in training, calibration and scoring."""
        return texts if isinstance(texts, PreparedTexts) else prepare_texts(texts, self.normalization())

    # -- optional abilities, each with its default here, so no caller probes for them ----------------
    def normalization(self) -> str:
        """The normalisation recipe the detector reads texts through ("none" if it has none)."""
        return getattr(self, "normalize", "none")

    def repairs(self) -> bool:
        """Whether invisible and look-alike characters are repaired before scoring."""
        return self.normalization() != "none"

    def models_used(self) -> list[str]:
        """The language models the detector scores with (none for one that reads no tokens)."""
        return []

    def engines(self) -> list:
        """The scoring engines behind those models (detect/engine.py)."""
        return []

    def token_view_model(self) -> str | None:
        """The model whose token ranks a GLTR view can show for this detector (None: none)."""
        return None

    def score_with_details(self, texts: Sequence[str], ids: Sequence[str] | None = None,
                           progress: bool = False) -> tuple[np.ndarray, list[dict]]:
        """(scores, per text a dict of the detector's own fields beside its score, e.g. a test's
        p-value; empty for most detectors)."""
        scores = self.decision_function(texts, ids, progress)
        return scores, [{} for _ in range(len(scores))]

    def source_status(self, source: str, meta: dict) -> str | None:
        """A flag for every text of a corpus whose ovid metadata (its .meta.json) says the detector
        cannot judge it; None: nothing to say (a watermark detector checks the scheme and tokenizer)."""
        return None

    def test_level(self) -> float | None:
        """The level of a statistical test whose p-values the detector gives (None: not a test)."""
        return None

    # -- the calibrated decision, computed here once ----------------------------------------------
    def calibration(self) -> dict | None:
        """What fit/calibrate learned (threshold, target_fpr, calibration map), or None."""
        return getattr(self, "calibration_", None) or None

    def stated_fpr(self) -> float | None:
        """The false-positive rate the detector's decisions are made at (None: it makes none)."""
        cal = self.calibration()
        return cal["target_fpr"] if cal else None

    def decisions(self, scores, details: Sequence[dict] | None = None) -> list[bool | None]:
        """Per score, whether the detector flags the text at its stated FPR (None: no decision)."""
        cal = self.calibration()
        if not cal:
            return [None] * len(scores)
        return [bool(s >= cal["threshold"]) for s in np.asarray(scores, dtype=np.float64)]

    def p_machine(self, scores, *, prior: float | None = None) -> np.ndarray | None:
        """P(machine) per score if a share `prior` of the texts scored are machine-written; with
        None, at `stated_prior()`, where it is at least 0.5 where the score reaches the threshold
        and at most 0.5 where it does not (what `ovid score`, ovid.check and the service state).
        None where the detector is not calibrated, or its calibration lacks its counts of human and
        machine texts or does not rise with the score (detect/calibration.py)."""
        cal = self.calibration()
        stated = p_machine_at(cal, np.asarray(scores, dtype=np.float64), prior) if cal else None
        return None if stated is None else stated[0]

    def stated_prior(self) -> float | None:
        """The share of machine-written texts at which the threshold is even odds: the prior
        `p_machine` holds at by default (None where it states none)."""
        cal = self.calibration()
        stated = p_machine_at(cal, []) if cal else None
        return None if stated is None else stated[1]

    def provenance(self) -> dict | None:
        """What the detector was trained on, as saved with it (None: not recorded)."""
        return getattr(self, "provenance_", None)

    def train_state(self) -> dict | None:
        """A trained detector's record of its training run (None: none)."""
        return getattr(self, "train_state_", None)

    # -- scoring -------------------------------------------------------------------------------
    def decision_function(self, texts: Sequence[str], ids: Sequence[str] | None = None,
                          progress: bool = False) -> np.ndarray:
        """One float per text, higher = more machine-like (scikit-learn's name for per-sample scores)."""
        return self._score(self.prepare(check_texts(texts)), ids, progress)

    def score(self, texts: Sequence[str], y: Sequence[int] | None = None, sample_weight=None, *,
              ids: Sequence[str] | None = None, progress: bool = False):
        """scikit-learn's score(X, y): the accuracy of `predict` against labels `y`. Without `y`,
        the per-text scores, as in earlier versions (deprecated: use decision_function)."""
        if y is None:
            warnings.warn("score(texts) without labels is deprecated and will become scikit-learn's accuracy "
                          "score(texts, labels); use decision_function(texts) for per-text scores",
                          FutureWarning, stacklevel=2)
            return self.decision_function(texts, ids, progress)
        texts, labels = check_labelled(texts, y)
        return float(np.average(self.predict(texts) == labels, weights=sample_weight))

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
        return self.calibrate_from_scores(self.decision_function(texts), labels, target_fpr, method, domains)

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
        if self.calibration() is None:
            raise NotFittedError(f"{self.name}: call fit() or calibrate() with labelled texts first")
        return self.calibration_

    @property
    def threshold_(self) -> float:
        return self._calibration()["threshold"]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 2): columns P(human), P(machine) for texts mixed as the calibration set was
        (scikit-learn's meaning, what log-loss on such texts scores); `p_machine` states it at a
        prior instead."""
        cal = self._calibration()
        p = apply_calibration(cal["calibration"], self.decision_function(texts))
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """1 (machine) where the score reaches the calibrated threshold, else 0."""
        return (self.decision_function(texts) >= self.threshold_).astype(int)

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
