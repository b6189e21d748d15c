"""Machine-text detectors behind one protocol: `make_detector(name, **params)`, `.fit`,
`.score` (higher = more machine-like), `.calibrate`, `.predict_proba`, `.predict`, `.save`, and
`load_detector(folder)`. Detector modules import lazily through the registry."""
from .base import Detector, NotFittedError
from .persistence import load_detector
from .registry import detector_names, make_detector, register

__all__ = ["Detector", "NotFittedError", "make_detector", "load_detector", "register", "detector_names"]
