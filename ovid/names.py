"""The hint after an unknown name, worded one way for every registry and file key."""
from __future__ import annotations

import difflib
from typing import Callable, Iterable


def did_you_mean(name: str, known: Iterable[str], n: int = 3, show: Callable[[str], str] = str) -> str:
    """"did you mean a, b?" for the known names close to `name`, else "known: a, b, c"."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
    if close:
        return f"did you mean {', '.join(map(show, close))}?"
    return f"known: {', '.join(map(show, known))}"
