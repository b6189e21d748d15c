"""Saving and loading detectors without pickle.

A saved detector is a folder: `config.json` (registry name, parameters, calibration, ovid
version, a SHA-256 of every state file) plus learned state as safetensors, JSON or skops files.
Loading rebuilds the detector from that folder alone, refuses any file whose hash changed, and
loads scikit-learn objects with skops against an explicit list of trusted types.
"""
from __future__ import annotations

import json
import re
import typing
import zipfile
from pathlib import Path

from ovid.atomic import write_json
from ovid.errors import OvidError
from ovid.hashing import sha256_file
from ovid.settings import type_name, type_ok
from ovid.version import __version__

from .params import CALIBRATIONS
from .registry import detector_class, make_detector

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


def distributions_ok(d) -> bool:
    """The calibration scores' histograms (detect/calibration.py: score_distributions)."""
    def numbers(xs, kind):
        return isinstance(xs, list) and all(isinstance(x, kind) and not isinstance(x, bool) for x in xs)

    if not (isinstance(d, dict) and set(d) == {"edges", "human", "machine"} and numbers(d["edges"], (int, float))):
        return False
    edges = d["edges"]
    return (len(edges) >= 2 and all(a < b for a, b in zip(edges, edges[1:]))
            and all(numbers(d[k], int) and len(d[k]) == len(edges) - 1 and min(d[k]) >= 0 for k in ("human", "machine")))


def save_detector(det, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = det._save_state(folder)
    config = {"format": FORMAT, "detector": det.name, "params": det.get_params(deep=False),
              "calibration": det.calibration(),
              "provenance": det.provenance(),
              "files": {name: sha256_file(folder / name) for name in files},
              "ovid_version": __version__}
    write_json(folder / "config.json", config)  # last: a folder without it is not a detector
    return folder


def read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise OvidError(f"{folder}: not a saved detector (no config.json)")
    if path.stat().st_size > CONFIG_MAX_BYTES:
        raise OvidError(f"{path}: {path.stat().st_size} bytes, over the {CONFIG_MAX_BYTES} a detector's config "
                        "ever needs; refusing to read it")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise OvidError(f"{path}: not valid JSON (nested too deep)") from None
    except (ValueError, UnicodeDecodeError) as e:  # bad JSON, bad UTF-8, an integer of 4,300+ digits
        raise OvidError(f"{path}: not valid JSON ({str(e)[:200]})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise OvidError(f"{path}: not an ovid detector config (format != {FORMAT!r})")
    check_version(path, config.get("ovid_version"))
    return config


def check_version(path: Path, saved: object) -> None:
    """A detector saved by a newer major version of ovid may mean things this one does not know."""
    if not isinstance(saved, str):
        return  # check_config names the missing or mistyped key
    major = re.match(r"(\d{1,6})\.", saved)
    ours = int(__version__.split(".")[0])
    if major and int(major.group(1)) > ours:
        raise OvidError(f"{path}: saved by ovid {saved[:40]}, newer than this ovid {__version__} (major version "
                        f"{major.group(1)} > {ours}); upgrade ovid to load it")


CONFIG_MAX_BYTES = 16 << 20  # calibration histograms and parameters: kilobytes in practice
CONFIG_KEYS = {"format": str, "detector": str, "params": dict, "files": dict, "ovid_version": str}
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def check_state_file(folder: Path, name: str) -> None:
    """A listed state file must be a regular file of the folder itself: not a link (to a file
    elsewhere, or to one that changes), not a FIFO or device, and not under a linked folder."""
    p = folder / name
    if not p.exists() and not p.is_symlink():
        return  # missing: the hash check names it
    part = p
    while part != folder:  # name is relative and has no "..": folder is among its parents
        if part.is_symlink():
            raise OvidError(f"{part}: a symbolic link; a detector's state files must be its own regular files")
        part = part.parent
    if not p.is_file():
        raise OvidError(f"{p}: not a regular file; refusing to load")


def check_config(folder: Path, config: dict) -> type:
    """The detector class of a saved folder, after checking config.json against its schema: the
    keys and their types, a known detector, known parameters of the right types and in range,
    a calibration of the known form, and a hash for every state file the detector reads (and
    for nothing outside the folder)."""
    path = folder / "config.json"
    for key, tp in CONFIG_KEYS.items():
        if key not in config:
            raise OvidError(f"{path}: missing key {key!r}; not a complete saved detector")
        if not isinstance(config[key], tp):
            raise OvidError(f"{path}: {key} must be a {tp.__name__}, got {type(config[key]).__name__}")
    try:
        cls = detector_class(config["detector"])
    except OvidError as e:
        raise OvidError(f"{path}: {e}") from None
    hints = typing.get_type_hints(cls.__init__)
    try:
        config["params"] = cls.canonical_params(config["params"])  # saved under an old parameter name
    except OvidError as e:
        raise OvidError(f"{path}: {e}") from None
    if "normalize" in hints and "normalize" not in config["params"]:
        config["params"]["normalize"] = "none"  # saved before normalisation existed: scored as it was trained
    for k, v in config["params"].items():
        if k not in hints:
            raise OvidError(f"{path}: detector {cls.name!r} takes no parameter {k!r}")
        if not type_ok(v, hints[k]):
            raise OvidError(f"{path}: params.{k} must be {type_name(hints[k])}, got {type(v).__name__} {v!r}")
    cal = config.get("calibration")
    threshold = cal.get("threshold") if isinstance(cal, dict) else None
    if cal is not None and not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
                                and threshold == threshold  # not NaN (±inf are real thresholds)
                                and isinstance(cal.get("calibration"), dict)
                                and cal["calibration"].get("method") in CALIBRATIONS):
        raise OvidError(f"{path}: calibration is not of the form ovid saves (threshold, calibration.method)")
    from .calibration import calibration_ok  # here: importing ovid loads no scikit-learn

    if cal is not None and not calibration_ok(cal["calibration"]):
        raise OvidError(f"{path}: calibration.calibration is not of the form ovid saves ({cal['calibration']['method']}: "
                        "platt needs numbers coef and intercept; isotonic, lists x and y of numbers, x increasing)")
    if isinstance(cal, dict) and "distributions" in cal and not distributions_ok(cal["distributions"]):
        raise OvidError(f"{path}: calibration.distributions must hold edges (n + 1 increasing numbers) and "
                        "human and machine counts (n each)")
    for name, digest in config["files"].items():
        if not isinstance(digest, str) or not HEX64.match(digest):
            raise OvidError(f"{path}: files[{name!r}] is not a SHA-256 hash")
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise OvidError(f"{path}: files[{name!r}] points outside the folder; refusing to load")
        check_state_file(folder, name)
    listed = set(config["files"])
    for state in cls.state_paths:
        target = folder / state
        present = sorted(str(p.relative_to(folder)) for p in ([target] if target.is_file() else target.rglob("*"))
                         if p.is_file()) if target.exists() else []
        unlisted = [p for p in present if p not in listed]
        if unlisted:
            raise OvidError(f"{folder / unlisted[0]}: not listed with a hash in config.json; refusing to load")
    if cls.trained and not listed:
        raise OvidError(f"{path}: lists no state files, but a trained {cls.name!r} detector needs its model")
    return cls


SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
SHIPPED_PREFIX = "ovid:"


def shipped_detectors() -> list[str]:
    """Names of the detectors that ship inside the package (`ovid:NAME`)."""
    return sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / "config.json").is_file()) if SHIPPED_DIR.is_dir() else []


def shipped_detector_path(ref: str) -> Path:
    """`ovid:NAME` -> the folder of a detector shipped inside the package."""
    name = ref[len(SHIPPED_PREFIX):]
    if name not in shipped_detectors():
        raise OvidError(f"{ref}: no such shipped detector; shipped: "
                        f"{', '.join(SHIPPED_PREFIX + n for n in shipped_detectors()) or 'none'}")
    return SHIPPED_DIR / name


def load_detector(folder: str | Path):
    """Rebuild a detector saved with `save` (or shipped: "ovid:default"), checking config.json's
    schema and every state file against its hash."""
    if isinstance(folder, str) and folder.startswith(SHIPPED_PREFIX):
        folder = shipped_detector_path(folder)
    folder = Path(folder)
    config = read_config(folder)
    cls = check_config(folder, config)
    for name, digest in config["files"].items():
        path = folder / name
        if not path.is_file():
            raise OvidError(f"{path}: missing; the saved detector is incomplete")
        if sha256_file(path) != digest:
            raise OvidError(f"{path}: contents do not match the hash in config.json "
                            f"(changed after saving, or foreign); refusing to load")
    try:
        det = cls(**config["params"]).check_params()
    except OvidError as e:
        raise OvidError(f"{folder / 'config.json'}: {e}") from None
    det._load_state(folder)
    det.calibration_ = config.get("calibration")
    det.provenance_ = config.get("provenance")
    return det


def save_skops(obj, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path)


# The skops node kinds an ovid model is made of. Functions, methods, operators, partials and
# objects rebuilt by calling something (FunctionNode, MethodNode, OperatorFuncNode, PartialNode,
# ConstructorFromReduceNode, ReduceNode) run code of the file's choosing, so none is listed.
SKOPS_LOADERS = {"ObjectNode", "DictNode", "ListNode", "TupleNode", "JsonNode", "NdArrayNode", "TypeNode",
                 "SliceNode", "DTypeNode", "RandomStateNode", "TreeNode", "LossNode"}


def skops_nodes(path: Path) -> list[tuple[str, str]]:
    """(loader, module.Class) of every node in a skops file's schema, every nesting level."""
    try:
        schema = json.loads(zipfile.ZipFile(path).read("schema.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, RecursionError, UnicodeDecodeError) as e:
        raise OvidError(f"{path}: not a skops file ({type(e).__name__}: {str(e)[:200]})") from None
    found: list[tuple[str, str]] = []
    stack = [schema]  # iterative: a schema nested 100k deep is a refusal, not a RecursionError
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(k in node for k in ("__loader__", "__class__", "__module__")):
                found.append((str(node.get("__loader__")), f"{node.get('__module__')}.{node.get('__class__')}"))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def load_skops(path: Path):
    """Load a scikit-learn object, refusing any node outside ovid's lists (SKOPS_LOADERS for the
    kind of node, SKOPS_TRUSTED for the type it names) before skops builds anything. skops's own
    default trust admits any scikit-learn estimator and numpy function (a FunctionTransformer
    calling numpy), so ovid's check walks every node of the file's schema instead."""
    import skops.io as sio

    nodes = skops_nodes(path)
    for loader, kind in nodes:
        if loader not in SKOPS_LOADERS:
            raise OvidError(f"{path}: refusing to load a {loader} ({kind}): not a kind of object ovid saves")
    untrusted = sorted({kind for _, kind in nodes} - set(SKOPS_TRUSTED))
    if untrusted:
        raise OvidError(f"{path}: refusing to load untrusted types {', '.join(untrusted)}")
    try:
        obj = sio.load(path, trusted=sorted({kind for _, kind in nodes}))
    except Exception as e:  # passed ovid's lists, yet skops cannot build it: still one line
        raise OvidError(f"{path}: cannot load ({type(e).__name__}: {str(e)[:200]})") from None
    problem = shape_problem(obj)
    if problem:
        raise OvidError(f"{path}: {problem}; the file was edited or is not one ovid saved")
    return obj


def shape_problem(obj) -> str | None:
    """What disagrees among a fitted scikit-learn object's learned arrays (a pipeline step's
    width against the step before it, coef_ against n_features_in_ and intercept_), or None:
    a file whose hash was remade after an edit fails here, not deep inside numpy on first use."""
    import numpy as np

    steps = [step for _, step in obj.steps] if hasattr(obj, "steps") else [obj]
    width = None
    for est in steps:
        name = type(est).__name__
        n_in = getattr(est, "n_features_in_", None)
        if width is not None and n_in is not None and n_in != width:
            return f"{name} expects {n_in} features but the step before it gives {width}"
        for attr in ("coef_", "mean_", "scale_", "var_"):
            a = getattr(est, attr, None)
            if isinstance(a, np.ndarray) and n_in is not None and (a.ndim == 0 or a.shape[-1] != n_in):
                return f"{name}.{attr} has shape {a.shape}, not one row of {n_in} features"
        coef, intercept = getattr(est, "coef_", None), getattr(est, "intercept_", None)
        if isinstance(coef, np.ndarray) and isinstance(intercept, np.ndarray) and coef.ndim == 2 \
                and intercept.shape != (coef.shape[0],):
            return f"{name}.intercept_ has shape {intercept.shape} for a coef_ of shape {coef.shape}"
        vocab, idf = getattr(est, "vocabulary_", None), getattr(est, "idf_", None)
        if isinstance(vocab, dict):
            if isinstance(idf, np.ndarray) and idf.shape != (len(vocab),):
                return f"{name}.idf_ has shape {idf.shape} for a vocabulary of {len(vocab)}"
            if vocab and (sorted(vocab.values()) != list(range(len(vocab)))):
                return f"{name}.vocabulary_ does not number its terms 0..{len(vocab) - 1}"
            width = len(vocab)
        elif isinstance(getattr(est, "mean_", None), np.ndarray) and n_in is not None:
            width = n_in  # a scaler keeps the width
        else:
            width = None
    return None


RUNTIME_PARAMS = ("cache_dir", "token_budget")  # may differ from what a saved detector was saved with
# the dtypes a detector saved with dtype "auto" may be told to run in instead (float32 for scores that
# repeat exactly on every machine): auto itself picks between them
AUTO_CHOICES = ("auto", "float32", "fp32", "bfloat16", "bf16")


def resolve_detector(detector: str, params: dict):
    """A detector by any name a user gives: ovid:default (shipped), a folder saved by
    `.save`/detect-train (its settings fixed, only runtime ones such as cache_dir may change), or
    a registry name built with `params`."""

    if not detector.strip():
        raise OvidError("--detector is empty; give a registry name or a saved detector folder")
    if Path(detector).is_dir() or detector.startswith(SHIPPED_PREFIX):
        det = load_detector(detector)
        runtime = RUNTIME_PARAMS
        if det.get_params(deep=False).get("dtype") == "auto" and params.get("dtype") in AUTO_CHOICES:
            runtime += ("dtype",)  # saved to run in whichever of these the machine runs best: each was checked
        fixed = sorted(set(params) - set(runtime))
        if fixed:
            hint = "; name one, e.g. --detector fast-detectgpt" if detector.startswith(SHIPPED_PREFIX) else ""
            may = "--cache-dir, --token-budget and --dtype auto|float32|bfloat16" if "dtype" in runtime or \
                det.get_params(deep=False).get("dtype") == "auto" else "--cache-dir and --token-budget"
            raise OvidError(f"--{fixed[0].replace('_', '-')} does not apply to a saved detector ({detector} keeps "
                            f"the settings it was trained with; only {may} change{hint})")
        known = det.get_params(deep=False)
        det.set_params(**{k: v for k, v in params.items() if k in known})
        return det.check_params()
    if "/" in detector or Path(detector).exists():
        raise OvidError(f"--detector {detector}: no such saved detector folder")
    return make_detector(detector, **params)
