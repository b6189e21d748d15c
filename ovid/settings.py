"""Settings are dataclass fields that carry their help text, so each default and its meaning are
written once: the CLI builds its options from these fields (cli/options.py), study files are
parsed into them (reports/study/config.py) and the Python API takes them by keyword.

    max_tokens: int = setting(256, "New tokens per sample.")
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

HELP = "help"  # metadata key of a field's help text
FLAGS = "flags"  # metadata key of extra CLI spellings, e.g. ("-n",)


def setting(default: Any = dataclasses.MISSING, help: str = "", *,
            factory: Callable[[], Any] | None = None, flags: tuple[str, ...] = ()) -> Any:
    """A dataclass field with its help text (and, optionally, short CLI flags)."""
    meta = {HELP: help, FLAGS: flags}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def help_of(f: dataclasses.Field) -> str:
    return f.metadata.get(HELP, "")


def default_of(f: dataclasses.Field) -> Any:
    """The field's default value (a fresh one for factories); MISSING when it has none."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def field_help(cls: type, name: str) -> str:
    """The help text of field `name` of dataclass `cls`, for a setting that shares its meaning."""
    return help_of(next(f for f in dataclasses.fields(cls) if f.name == name))
