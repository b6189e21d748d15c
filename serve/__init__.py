"""`ovid serve`: the detectors as a service, a JSON API and a web page (FastAPI, uvicorn).
Names load on first use, so importing this package (the CLI does) loads no model stack.

    from ovid.serve import ServeConfig, Service, create_app
    app = create_app(Service(ServeConfig(detectors=["ovid:default"])))
"""
from ovid.lazy import lazy_exports

_EXPORTS = {"ServeConfig": "config", "Service": "service", "create_app": "app"}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
