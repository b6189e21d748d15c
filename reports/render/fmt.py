"""Number formatting shared by the page, the Markdown and the figures (display only)."""
from __future__ import annotations

import math

MISSING = "–"  # shown for a value the study did not produce (NaN or empty)


def is_missing(x: object) -> bool:
    if x is None or (isinstance(x, str) and not x.strip()):
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def num(x: object, digits: int = 2) -> str:
    """A rate or score with `digits` decimals: 0.9134 -> "0.91"."""
    return MISSING if is_missing(x) else f"{float(x):.{digits}f}"


def with_ci(x: object, lo: object, hi: object, digits: int = 2) -> str:
    """A value with its 95% interval: "0.91 [0.85, 0.96]"; the bracket is left out if unknown."""
    if is_missing(x):
        return MISSING
    if is_missing(lo) or is_missing(hi):
        return num(x, digits)
    return f"{num(x, digits)} [{num(lo, digits)}, {num(hi, digits)}]"


def share(x: object) -> str:
    """A share in [0, 1] as a percentage with 3 significant digits: 0.0123 -> "1.23%"."""
    return MISSING if is_missing(x) else f"{100 * float(x):.3g}%"


def params(p: object) -> str:
    """A parameter count in M or B: 135e6 -> "135M", 1.5e9 -> "1.5B"."""
    if is_missing(p):
        return MISSING
    p = float(p)
    if p >= 1e9:
        return f"{p / 1e9:.3g}B"
    if p >= 1e6:
        return f"{p / 1e6:.3g}M"
    return f"{p:.3g}"


def count(x: object) -> str:
    return MISSING if is_missing(x) else f"{int(x):d}"


def fpr(x: object) -> str:
    """A false-positive rate as a short percentage: 0.01 -> "1%", 0.001 -> "0.1%"."""
    return MISSING if is_missing(x) else f"{100 * float(x):g}%"


def seconds(x: object) -> str:
    if is_missing(x):
        return MISSING
    s = float(x)
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"
