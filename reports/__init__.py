"""Studies and their reports: the detection-rate study (study/), the memorization study
(memorization/), and the rendering of their tables (render/). `schema.py` is the contract between
computation and rendering. Names load on first use."""
from ovid.lazy import lazy_exports

_EXPORTS = {"render_report": "render", "ReportDataError": "render", "run_study": "study.run",
            "load_study": "study.config"}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
