"""Settings are dataclass fields that carry their help text and their valid range, so each
default, its meaning and its constraint are written once: the CLI builds its options from these
fields (cli/options.py), study files are parsed into them (reports/study/config.py), the Python
API takes them by keyword, and `check_settings` (called by each dataclass's __post_init__)
refuses a value out of range with an error that names the field.

    max_tokens: int = setting(256, "New tokens per sample.", check=at_least(1))
"""
from __future__ import annotations

import collections.abc
import dataclasses
import math
import types
import typing
from typing import Any, Callable

from .errors import OvidError

HELP = "help"  # metadata key of a field's help text
FLAGS = "flags"  # metadata key of extra CLI spellings, e.g. ("-n",)
CHECK = "check"  # metadata key of the field's check: value -> problem (str) or None

Check = Callable[[Any], "str | None"]


class SettingError(OvidError, ValueError):
    """A setting out of range; `field` names it, so the CLI can say `--field` and a study file
    `[section].field`."""

    def __init__(self, field: str, problem: str, option: str | None = None):
        self.field, self.problem = field, problem
        self.option = option  # the CLI's spelling when it is not --field (e.g. --detector for detectors)
        super().__init__(f"{field} {problem}")


def setting(default: Any = dataclasses.MISSING, help: str = "", *,
            factory: Callable[[], Any] | None = None, flags: tuple[str, ...] = (),
            check: Check | None = None) -> Any:
    """A dataclass field with its help text, optional short CLI flags and a check."""
    meta = {HELP: help, FLAGS: flags, CHECK: check}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def check_settings(obj: Any) -> None:
    """Run every field's check; the first problem raises SettingError naming the field."""
    for f in dataclasses.fields(obj):
        check = f.metadata.get(CHECK)
        problem = check(getattr(obj, f.name)) if check else None
        if problem:
            flags = sorted(f.metadata.get(FLAGS, ()), key=lambda x: not x.startswith("--"))  # a long one first
            raise SettingError(f.name, problem, flags[0] if flags else None)


def help_of(f: dataclasses.Field) -> str:
    return f.metadata.get(HELP, "")


def field_help(cls: type, name: str) -> str:
    """The help text of field `name` of dataclass `cls`, for a setting that shares its meaning."""
    return help_of(next(f for f in dataclasses.fields(cls) if f.name == name))


def field_default(cls: type, name: str) -> Any:
    """The default of field `name` of dataclass `cls`."""
    return default_of(next(f for f in dataclasses.fields(cls) if f.name == name))


def default_of(f: dataclasses.Field) -> Any:
    """The field's default value (a fresh one for factories); MISSING when it has none."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def type_ok(value: Any, tp: Any) -> bool:
    """Whether a JSON/TOML value fits a type hint (int is not bool; a float accepts an int;
    a sequence is a JSON list)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin is typing.Union or origin is types.UnionType:
        return any(type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin in (list, tuple, collections.abc.Sequence):
        inner = typing.get_args(tp)[0] if typing.get_args(tp) else Any
        return isinstance(value, list) and all(type_ok(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(tp, type) and isinstance(value, tp)


def type_name(tp: Any) -> str:
    return str(tp).replace("typing.", "").replace("collections.abc.", "").replace("<class '", "").replace("'>", "")


# -- checks: each returns None when the value is fine, else what is wrong ------------------------
def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def at_least(low: float, *, optional: bool = False, high: float | None = None) -> Check:
    """low <= x (<= high, when given: every number a user gives has an upper bound, so an absurd
    one is refused before any work starts instead of running for hours)."""
    def check(x: Any) -> str | None:
        if x is None and optional:
            return None
        if high is None:
            return None if _number(x) and x >= low else f"must be >= {low:g}, got {_shown(x)}"
        return None if _number(x) and low <= x <= high else f"must be in [{low:g}, {high}], got {_shown(x)}"
    return check


def _shown(x: Any) -> str:
    """A value as an error shows it: a 5,000-digit integer in a few characters."""
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) > 10 ** 30:
        return f"an integer of {len(str(abs(x))) if abs(x).bit_length() < 14000 else 'over 4,000'} digits"
    return repr(x)[:80]


# The reasoned upper bounds (each named where it is used).
MAX_SEED = 2 ** 32 - 1  # numpy's and most libraries' seed range
MAX_SAMPLES = 10_000_000  # texts one command generates: ten times the gpt-2-output-dataset
MAX_NEW_TOKENS = 131_072  # new tokens per sample: past every supported model's context
MAX_BOOTSTRAP = 100_000  # resamples: far past where a 95% interval stops moving


def seed_range() -> Check:
    return at_least(0, high=MAX_SEED)


def positive(*, optional: bool = False) -> Check:
    def check(x: Any) -> str | None:
        if x is None and optional:
            return None
        return None if _number(x) and x > 0 else f"must be > 0, got {x!r}"
    return check


def fraction(*, closed_low: bool = False, closed_high: bool = False) -> Check:
    """A share strictly between 0 and 1 (or including an end)."""
    lo, hi = "[" if closed_low else "(", "]" if closed_high else ")"

    def check(x: Any) -> str | None:
        ok = _number(x) and (x >= 0 if closed_low else x > 0) and (x <= 1 if closed_high else x < 1)
        return None if ok else f"must be in {lo}0, 1{hi}, got {x!r}"
    return check


def one_of(*choices: str) -> Check:
    def check(x: Any) -> str | None:
        return None if x in choices else f"must be one of {', '.join(choices)}, got {x!r}"
    check.choices = choices  # type: ignore[attr-defined]  (the CLI offers them: cli/options.py)
    return check


def each(inner: Check) -> Check:
    """Every item of a list passes `inner`."""
    def check(xs: Any) -> str | None:
        for x in xs or ():
            problem = inner(x)
            if problem:
                return problem
        return None
    return check


TRAINING_DTYPES = ("auto", "float32", "bfloat16", "float16", "fp32", "bf16", "fp16")
DTYPES = TRAINING_DTYPES + ("int8",)  # int8: scoring only (a quantized body cannot be fine-tuned)
dtype_check = one_of(*DTYPES)
training_dtype_check = one_of(*TRAINING_DTYPES)
