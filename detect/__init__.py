"""Machine-text detectors behind one protocol, scikit-learn's (detect/base.py): `make_detector(name,
**params)`, `.fit`, `.decision_function` (higher = more machine-like), `.calibrate`, `.predict_proba`,
`.predict`, `.save`, and `load_detector(folder)`; `resolve_detector` takes any name a user gives and
`check(texts)` answers each text as the service does. Names and detector modules load on first use (the registry's entries
are lazy too), so importing this package loads neither torch nor transformers."""
from ovid.lazy import lazy_exports

_EXPORTS = {"Detector": "base", "NotFittedError": "base", "load_detector": "persistence",
            "make_detector": "registry", "resolve_detector": "persistence", "check": "verdicts", "Check": "verdicts",
            "CheckSettings": "verdicts", "register": "registry", "detector_names": "registry",
            "score_files": "score_job", "ScoreJob": "score_job", "ScoreBatch": "batch_scoring",
            "score_dataset": "batch_scoring", "train_detector": "train_job", "TrainJob": "train_job"}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
