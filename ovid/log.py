"""Progress lines for long batch jobs: on stderr, flushed, prefixed with the job's name, so
stdout stays for results."""
from __future__ import annotations

import sys
from typing import Callable

_QUIET = {"on": False}


def quiet(on: bool = True) -> None:
    """Silence progress lines from now on (--no-progress): only results and errors remain."""
    _QUIET["on"] = on


def log(job: str, msg: str) -> None:
    if not _QUIET["on"]:
        print(f"[{job}] {msg}", file=sys.stderr, flush=True)


def logger(job: str) -> Callable[[str], None]:
    """`say(msg)` for one job: `say = logger("ovid report")`."""
    return lambda msg: log(job, msg)
