"""`ovid serve`'s settings, one dataclass: the CLI's options, the API's keywords."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovid.detect.params import CheckSettings
from ovid.settings import at_least, check_settings, positive, setting


def _port(x: Any) -> str | None:
    ok = isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 65535
    return None if ok else f"must be a port number in [1, 65535], got {x!r}"


def _names(xs: Any) -> str | None:
    if not xs:
        return "needs at least one detector"
    bad = [x for x in xs if not isinstance(x, str) or not x.strip()]
    return f"has an empty name: {bad[0]!r}" if bad else None


def _hosts(xs: Any) -> str | None:
    bad = [x for x in xs if not isinstance(x, str) or not x.strip() or any(c in x for c in " /\\")]
    return f"has a name that is not a host: {bad[0]!r}" if bad else None


def _host(x: Any) -> str | None:
    return None if isinstance(x, str) and x.strip() and " " not in x else f"must be an address, got {x!r}"


@dataclass(frozen=True, kw_only=True)
class ServeConfig(CheckSettings):
    detectors: list[str] = setting(factory=lambda: ["ovid:default"], flags=("--detector",), check=_names,
                                   help="Detector to load (repeat for several): ovid:default, a registry name or a "
                                   "saved folder; the first answers requests that name none.")
    host: str = setting("127.0.0.1", "Address to listen on; the default answers this machine only.", check=_host)
    port: int = setting(8000, "Port to listen on.", check=_port)
    allowed_hosts: list[str] = setting(factory=list, flags=("--allowed-host",), check=_hosts,
                                       help="A Host header to answer besides localhost, the loopback addresses "
                                       "and --host itself (repeat for several; * answers any). Any other Host gets "
                                       "400: a web page elsewhere cannot reach the service by DNS rebinding.")
    docs: bool = setting(False, "Serve the interactive API docs at /docs (Swagger UI, whose scripts the browser "
                         "fetches from a CDN). The schema is always at /openapi.json.")
    read_timeout_s: float = setting(10.0, "Seconds to wait for the next part of a request body before answering "
                                    "408 and closing: a slow or stalled sender cannot hold a connection.",
                                    check=positive())
    max_body_bytes: int = setting(1_000_000, "Largest request body in bytes (413 beyond).", check=at_least(1))
    max_texts: int = setting(64, "Most texts in one /v1/score request.", check=at_least(1))
    max_chars: int = setting(100_000, "Longest text in characters.", check=at_least(1))
    timeout_s: float = setting(60.0, "Seconds a request may wait and run before it gets a 504.", check=positive())
    micro_batching: bool = setting(True, "Score concurrent requests' texts in shared forward passes.")
    batch_wait_ms: float = setting(5.0, "How long the first request of a batch waits for others to join it.",
                                   check=at_least(0))
    batch_tokens: int = setting(16_384, "A batch runs as soon as it holds this many tokens.", check=at_least(1))
    cache_mb: float = setting(256.0, "Memory for cached token statistics per scoring model, in MiB (least "
                              "recently used first out).", check=at_least(0))
    watermark_model: str | None = setting(None, "Model that generated the watermarked text: with --watermark and "
                                          "--watermark-key, every text is also tested for the watermark.")
    watermark: dict[str, Any] = setting(factory=dict, help="The watermark detector's parameters (scheme, key, "
                                        "gamma, ...; make_detector's keywords); empty: no watermark test.")
    warm_up: bool = setting(True, "Load the models and compile the scoring path before taking requests (a "
                            "one-time ~10-60 s on a CPU), so the first requests are not slow.")

    def __post_init__(self) -> None:
        check_settings(self)
