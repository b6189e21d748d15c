"""The web face of the service: FastAPI routes over `Service`, the limits that keep it up, and
errors as JSON that name the field ({"error": "texts[2]: ...", "field": "texts[2]"}), never a 500
for a bad request."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ovid.detect.verdicts import error_line
from ovid.errors import OvidError
from ovid.normalize import normalize
from ovid.version import __version__

from .batcher import BatcherClosed
from .schemas import ErrorResponse, ScoreRequest, ScoreResponse, TokensRequest, TokensResponse
from .security import HostAndHeaders, content_security_policy, host_name
from .service import Service

ERRORS = {status: {"model": ErrorResponse} for status in (400, 404, 408, 413, 422, 500, 503, 504)}


class ApiError(HTTPException):
    """A request the service refuses: its status, the field at fault and why."""

    def __init__(self, status: int, field: str | None, message: str):
        super().__init__(status, f"{field}: {message}" if field else message)
        self.field = field


def error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)


def field_path(loc) -> str:
    """("body", "texts", 3) -> "texts[3]"."""
    parts = [p for p in loc if p != "body"] or ["body"]
    out = str(parts[0])
    for p in parts[1:]:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


class BodyLimit:
    """Refuse a request body over `max_bytes` with a 413, from its Content-Length or as it streams,
    and one whose next part takes over `read_timeout_s` to come with a 408."""

    def __init__(self, app, max_bytes: int, read_timeout_s: float):
        self.app, self.max_bytes, self.read_timeout_s = app, max_bytes, read_timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        too_large = f"over {self.max_bytes} bytes (--max-body-bytes)"
        if length is not None and not length.isdigit():
            return await error(400, f"body: Content-Length {length.decode('latin-1')[:40]!r} is not a number",
                               "body")(scope, receive, send)
        if length is not None and int(length) > self.max_bytes:
            return await error(413, f"body: {too_large}", "body")(scope, receive, send)
        seen, done = 0, False

        # an ApiError raised while FastAPI reads the body reaches the HTTPException handler (FastAPI
        # re-raises HTTPExceptions from body parsing); tests/test_bad_inputs.py's streamed-body case pins it
        async def counted():
            nonlocal seen, done
            if done:  # the body is read: what comes now is the disconnect, which may wait as it likes
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout_s)
            except asyncio.TimeoutError:
                raise ApiError(408, "body", f"no data for {self.read_timeout_s:g} s (--read-timeout-s)") from None
            done = message.get("type") != "http.request" or not message.get("more_body", False)
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise ApiError(413, "body", too_large)
            return message

        await self.app(scope, counted, send)


def check_texts(texts: list[str], service: Service, field: str = "texts") -> None:
    """The limits and what cannot be scored, each named by its field (cheap: before any queueing)."""
    c = service.config
    if not texts:
        raise ApiError(422, field, "give at least one text")
    if len(texts) > c.max_texts:
        raise ApiError(413, field, f"{len(texts)} texts; at most {c.max_texts} per request (--max-request-texts)")
    for i, t in enumerate(texts):
        where = f"{field}[{i}]" if field == "texts" else field
        if len(t) > c.max_chars:
            raise ApiError(413, where, f"{len(t)} characters; at most {c.max_chars} (--max-chars)")
        try:
            t.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ApiError(422, where, f"not valid Unicode: a lone surrogate at character {e.start}") from None
        if not t.strip():
            raise ApiError(422, where, "empty or whitespace-only; nothing to score")
        if not normalize(t, "repair").text.strip():
            raise ApiError(422, where, "nothing left to score once invisible characters are removed")


def check_detector(name: str | None, service: Service) -> str:
    name = service.default if name is None else name
    if name not in service.detectors:
        raise ApiError(422, "detector", f"{name!r} is not loaded; loaded: {', '.join(service.detectors)}")
    return name


async def answer(future, service: Service):
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), service.config.timeout_s)
    except asyncio.TimeoutError:
        future.cancel()
        raise ApiError(504, None, f"no answer within {service.config.timeout_s:g} s (--timeout-s): the server is "
                       "busy; try again or send fewer texts") from None
    except BatcherClosed as e:
        raise ApiError(503, None, str(e)) from None
    except Exception as e:  # a bug in the service, not the request: still JSON, still one line
        raise ApiError(500, None, f"internal error: {error_line(e)}") from None


def create_app(service: Service) -> FastAPI:
    """The app; its lifespan starts the service (loads the models) unless it has started."""
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if service.batcher is None:
            await run_in_threadpool(service.start)
        yield
        await run_in_threadpool(service.close)

    c = service.config
    app = FastAPI(title="ovid", version=__version__, lifespan=lifespan,
                  docs_url="/docs" if c.docs else None, redoc_url=None,
                  description="Did a model write this text? Scores with ovid's detectors, each verdict with the "
                  "false-positive rate its threshold was set for.")
    app.add_middleware(BodyLimit, max_bytes=c.max_body_bytes, read_timeout_s=c.read_timeout_s)
    page_html = resources.files("ovid.serve").joinpath("page.html").read_text(encoding="utf-8")
    hosts = {h.strip().lower() for h in c.allowed_hosts}
    if c.host not in ("0.0.0.0", "::"):  # the address it listens on is a name it answers to
        hosts.add(host_name(c.host))
    app.add_middleware(HostAndHeaders, allowed_hosts=frozenset(hosts), csp=content_security_policy(page_html, c.docs))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        field = getattr(exc, "field", None)
        if exc.status_code == 400 and field is None:  # FastAPI could not parse the body (e.g. nested too deep)
            return error(400, f"body: could not be read as UTF-8 JSON ({exc.detail})", "body")
        return error(exc.status_code, str(exc.detail), field)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            at = first.get("loc", ())[1:2]
            return error(422, "body: not valid JSON" + (f" (at character {at[0]})" if at else ""), "body")
        field = field_path(first.get("loc", ("body",)))
        return error(422, f"{field}: {first.get('msg', 'invalid')}", field)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return HTMLResponse(page_html)

    @app.get("/healthz", summary="Whether the service is up, its memory and its statistics caches")
    async def healthz():
        return service.health()

    @app.get("/v1/detectors", summary="The loaded detectors, their thresholds and calibration score distributions")
    async def detectors():
        c = service.config
        return {"detectors": [service.describe(n) for n in service.detectors],
                "limits": {"max_texts": c.max_texts, "max_chars": c.max_chars, "max_tokens": c.max_tokens,
                           "max_body_bytes": c.max_body_bytes, "timeout_s": c.timeout_s},
                "watermark": service.watermark.watermark_config().describe() if service.watermark else None}

    @app.post("/v1/score", response_model=ScoreResponse, responses=ERRORS,
              summary="Score texts: score, P(machine), the verdict and its FPR, warnings, the watermark test")
    async def score(body: ScoreRequest):
        name = check_detector(body.detector, service)
        await run_in_threadpool(check_texts, body.texts, service)  # up to max_texts x max_chars: off the loop
        if body.segments:
            try:
                service.detectors[name].segment_model()
            except OvidError as e:
                raise ApiError(422, "segments", str(e)) from None
        results = await answer(service.submit_score(body.texts, name, segments=body.segments), service)
        return {"detector": name, "results": results}

    @app.post("/v1/tokens", response_model=TokensResponse, responses=ERRORS,
              summary="One text token by token: each token's rank and probability under the model (GLTR's view)")
    async def tokens(body: TokensRequest):
        name = check_detector(body.detector, service)
        if service.token_view_model(name) is None:
            raise ApiError(422, "detector", f"{name!r} reads no language model's ranks; name one that does")
        await run_in_threadpool(check_texts, [body.text], service, "text")
        (view,) = await answer(service.submit_tokens(body.text, name), service)
        if isinstance(view, Exception):
            raise ApiError(422, "text", f"the model could not read this text ({type(view).__name__}: {view})")
        return {"detector": name, **view}

    return app
