"""Saving and loading detectors without pickle.

A saved detector is a folder: `config.json` (registry name, parameters, calibration, ovid
version, a SHA-256 of every state file) plus learned state as safetensors, JSON or skops files.
Loading rebuilds the detector from that folder alone, refuses any file whose hash changed, and
loads scikit-learn objects with skops against an explicit list of trusted types.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ovid.atomic import write_json
from ovid.errors import OvidError
from ovid.hashing import sha256_file
from ovid.version import __version__

from .registry import detector_class

FORMAT = "ovid-detector"

# Every type a saved scikit-learn model of ovid may contain; anything else is refused.
SKOPS_TRUSTED = [
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.ensemble._gb.GradientBoostingClassifier",
    "sklearn.tree._classes.DecisionTreeRegressor", "sklearn.tree._tree.Tree",
    "sklearn._loss.loss.HalfBinomialLoss", "sklearn._loss._loss.CyHalfBinomialLoss", "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval", "sklearn.dummy.DummyClassifier",
    "numpy.random._mt19937.MT19937", "numpy.random.mtrand.RandomState",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "numpy.float64", "numpy.int64", "numpy.int32", "numpy.float32", "numpy.dtype", "numpy.ndarray",
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int",
    "builtins.float", "builtins.bool", "builtins.slice",
]


def save_detector(det, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = det._save_state(folder)
    config = {"format": FORMAT, "detector": det.name, "params": det.get_params(),
              "calibration": getattr(det, "calibration_", None),
              "provenance": getattr(det, "provenance_", None),
              "files": {name: sha256_file(folder / name) for name in files},
              "ovid_version": __version__}
    write_json(folder / "config.json", config)  # last: a folder without it is not a detector
    return folder


def read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise OvidError(f"{folder}: not a saved detector (no config.json)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise OvidError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise OvidError(f"{path}: not an ovid detector config (format != {FORMAT!r})")
    return config


def load_detector(folder: str | Path):
    """Rebuild a detector saved with `save`, checking every state file against its hash."""
    folder = Path(folder)
    config = read_config(folder)
    for name, digest in config.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise OvidError(f"{path}: missing; the saved detector is incomplete")
        if sha256_file(path) != digest:
            raise OvidError(f"{path}: contents do not match the hash in config.json "
                            f"(changed after saving, or foreign); refusing to load")
    cls = detector_class(config["detector"])
    det = cls(**config.get("params", {}))
    det._load_state(folder)
    det.calibration_ = config.get("calibration")
    det.provenance_ = config.get("provenance")
    return det


def save_skops(obj, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path)


def skops_types(path: Path) -> set[str]:
    """Every `module.Class` named in a skops file's schema."""
    try:
        schema = json.loads(zipfile.ZipFile(path).read("schema.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as e:
        raise OvidError(f"{path}: not a skops file ({e})") from None
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    return found


def load_skops(path: Path):
    """Load a scikit-learn object, refusing any type outside SKOPS_TRUSTED. skops's own default
    trust admits any scikit-learn estimator and numpy function (a FunctionTransformer calling
    numpy), so the check walks the file's schema against our explicit list instead."""
    import skops.io as sio

    untrusted = sorted(skops_types(path) - set(SKOPS_TRUSTED))
    if untrusted:
        raise OvidError(f"{path}: refusing to load untrusted types {', '.join(untrusted)}")
    return sio.load(path, trusted=sorted(skops_types(path)))
