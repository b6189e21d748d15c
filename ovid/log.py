"""Progress lines for long batch jobs: on stderr, flushed, prefixed with the job's name, so
stdout stays for results."""
from __future__ import annotations

import sys
from typing import Callable


def log(job: str, msg: str) -> None:
    print(f"[{job}] {msg}", file=sys.stderr, flush=True)


def logger(job: str) -> Callable[[str], None]:
    """`say(msg)` for one job: `say = logger("ovid report")`."""
    return lambda msg: log(job, msg)
