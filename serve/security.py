"""What a browser needs to keep another site's page away from the service: only Host names the
service answers to (a foreign page that re-points its own name at 127.0.0.1, DNS rebinding, gets
400), and headers that forbid framing and any script but the page's own."""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re

LOOPBACK_NAMES = ("localhost",)
# the scripts of Swagger UI at /docs (FastAPI's defaults), only when --docs is given
DOCS_SOURCES = "https://cdn.jsdelivr.net"


def host_name(header: str) -> str:
    """"Example.org:8000" -> "example.org"; "[::1]:8000" -> "::1"."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def host_allowed(name: str, allowed: frozenset[str]) -> bool:
    if "*" in allowed or name in allowed or name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def inline_hashes(html: str, tag: str) -> str:
    """CSP sources naming each inline <tag> block of the page by its SHA-256, so that only those run."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)


def content_security_policy(page_html: str, docs: bool = False) -> str:
    scripts = inline_hashes(page_html, "script")
    extra = f" {DOCS_SOURCES} 'unsafe-inline'" if docs else ""
    return (f"default-src 'none'; script-src {scripts}{extra}; style-src 'self' 'unsafe-inline'{extra}; "
            f"img-src 'self' data:{' https://fastapi.tiangolo.com' if docs else ''}; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class HostAndHeaders:
    """ASGI middleware: refuse a Host outside the allow-list, add the security headers to every
    response."""

    def __init__(self, app, allowed_hosts: frozenset[str], csp: str):
        self.app, self.allowed = app, allowed_hosts
        self.headers = [(b"content-security-policy", csp.encode()), (b"x-frame-options", b"DENY"),
                        (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                        (b"cross-origin-opener-policy", b"same-origin")]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        name = host_name(host)
        if not host_allowed(name, self.allowed):
            body = json.dumps({"error": f"Host: {host[:100]!r} is not a name this service answers to "
                               "(ovid serve --allowed-host NAME adds one)", "field": "Host"}).encode()
            await with_headers({"type": "http.response.start", "status": 400,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode())]})
            return await with_headers({"type": "http.response.body", "body": body})
        await self.app(scope, receive, with_headers)
