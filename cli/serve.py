"""`ovid serve`: the detectors behind a JSON API and a web page (serve/)."""
from __future__ import annotations

import ipaddress
import socket

import typer

from ovid.errors import OvidError
from ovid.serve.config import ServeConfig

from .options import alias, field_options, with_options
from .watermark_options import field_name, watermark_options

# serve's limits per request, renamed where generate and train give the name another meaning
SPELLED = {"max_texts": "--max-request-texts", "max_tokens": "--truncate-tokens"}
SETTINGS = field_options(ServeConfig, skip=("watermark", "watermark_model", "warm_up"), spell=SPELLED)
OPTIONS = [
    *SETTINGS,
    *field_options(ServeConfig, only=("watermark_model",)),
    *watermark_options(detector=True),
    *field_options(ServeConfig, only=("warm_up",)),
    *[alias("--" + name.replace("_", "-"), next(p for p in SETTINGS if p.name == name)) for name in SPELLED],
]


def check_address(host: str, port: int) -> None:
    """Refuse, before any model loads, an address this process cannot listen on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise OvidError(f"--host {host}: not an address of this machine ({e.strerror})") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            raise OvidError(f"--port {port}: cannot listen on {host}:{port} ({e.strerror or e}); "
                            "is another server running there?") from None


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(*, detectors: list[str], host: str, port: int, watermark_model: str | None, warm_up: bool,
          **rest) -> None:
    """Serve the detectors: POST /v1/score, POST /v1/tokens, GET /v1/detectors, GET /healthz, the page at /."""
    import uvicorn

    from ovid.serve import Service, create_app

    # --watermark is the scheme (watermark_options); ServeConfig.watermark is the whole parameter set
    fields = {f: rest.pop(f) for f in list(rest) if f in ServeConfig.__dataclass_fields__ and f != "watermark"}
    marks = {field_name(k): v for k, v in rest.items() if v is not None}
    config = ServeConfig(detectors=detectors, host=host, port=port, watermark_model=watermark_model,
                         watermark=marks, warm_up=warm_up, **fields)
    service = Service(config)  # every detector and the watermark settings checked; no model loaded yet
    check_address(host, port)
    if not loopback(host):
        typer.echo(f"ovid serve: listening on {host}: anyone who can reach this machine can use the service",
                   err=True)
    typer.echo(f"ovid serve: loading {', '.join(service.detectors)}"
               + (" and compiling (a minute on a CPU)" if warm_up else ""), err=True)
    service.start()
    api = "API docs at /docs" if config.docs else "API schema at /openapi.json; --docs serves its docs page"
    typer.echo(f"ovid serve: http://{host}:{port}/ ({api}); Ctrl+C stops it", err=True)
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning", timeout_keep_alive=5)


command = with_options(OPTIONS, serve)
