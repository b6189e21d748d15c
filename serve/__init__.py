"""`ovid serve`: the detectors as a service, a JSON API and a web page (FastAPI, uvicorn).

    from ovid.serve import ServeConfig, Service, create_app
    app = create_app(Service(ServeConfig(detectors=["ovid:default"])))
"""
from .app import create_app
from .config import ServeConfig
from .service import Service

__all__ = ["ServeConfig", "Service", "create_app"]
