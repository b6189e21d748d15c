"""Detectors by name. Entries are lazy "module:Class" strings, so naming a detector imports only
its own module; `register` adds a class (built-ins and plugins alike)."""
from __future__ import annotations

import importlib
from typing import Callable

from ovid.errors import OvidError
from ovid.names import did_you_mean

_ENTRIES: dict[str, str | type] = {
    "likelihood": "ovid.detect.likelihood:Likelihood",
    "logrank": "ovid.detect.logrank:LogRank",
    "entropy": "ovid.detect.entropy:Entropy",
    "lrr": "ovid.detect.lrr:LRR",
    "fast-detectgpt": "ovid.detect.fast_detectgpt:FastDetectGPT",
    "binoculars": "ovid.detect.binoculars:Binoculars",
    "gltr": "ovid.detect.gltr:GLTR",
    "tfidf": "ovid.detect.tfidf:TfidfDetector",
    "classifier": "ovid.detect.classifier:FineTunedClassifier",
    "ensemble": "ovid.detect.ensemble:Ensemble",
    "watermark": "ovid.detect.watermark:WatermarkDetector",
}


ALIASES = {"roberta": "classifier"}  # old names that keep working (saved detectors, scripts)


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make `cls` available as `make_detector(name)`."""
    def deco(cls: type) -> type:
        cls.name = name
        _ENTRIES[name] = cls
        return cls
    return deco


def detector_names() -> list[str]:
    return list(_ENTRIES)


def canonical_name(name: str) -> str:
    """The registry name a detector is saved under (an alias's target)."""
    return ALIASES.get(name, name)


def detector_class(name: str) -> type:
    name = canonical_name(name)
    if name not in _ENTRIES:
        raise OvidError(f"unknown detector {name!r}; {did_you_mean(name, [*_ENTRIES, *ALIASES])}")
    entry = _ENTRIES[name]
    if isinstance(entry, str):
        module, _, cls_name = entry.partition(":")
        entry = getattr(importlib.import_module(module), cls_name)
        _ENTRIES[name] = entry
    return entry


def make_detector(name: str, **params):
    """A new detector by registry name; unknown parameters are an error naming them."""
    cls = detector_class(name)
    params = cls.canonical_params(params)
    unknown = sorted(set(params) - set(cls.param_names()))
    if unknown:
        raise OvidError(f"detector {name!r} takes no parameter {', '.join(unknown)} "
                        f"(it takes: {', '.join(cls.param_names())})")
    return cls(**params).check_params()

