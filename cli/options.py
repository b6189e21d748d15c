"""CLI options built from configuration dataclasses (ovid/settings.py): each option's name, type,
default and help come from the field it sets, so the CLI cannot drift from the Python API."""
from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import types
import typing
from typing import Any, Callable, List, NoReturn, Optional

import typer

from ovid.settings import FLAGS, default_of, help_of


def fail(message: str) -> NoReturn:
    """A user's mistake: one line on stderr, exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def split_list(value: str) -> list[str]:
    """"a,b,,c" -> ["a", "b", "c"]."""
    return [v for v in value.split(",") if v]


def cli_type(tp: Any) -> Any:
    """The type typer parses for a field's type: X | None -> Optional[X], list[X] -> List[X],
    Literal[...] -> str."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return Optional[cli_type(inner[0])]
    if origin in (list, tuple, collections.abc.Sequence):
        return List[cli_type(typing.get_args(tp)[0])]
    if origin is typing.Literal:
        return str
    return tp


def option(name: str, tp: Any, default: Any, help: str, flags: tuple[str, ...] = (),
           show_default: bool | str = True) -> inspect.Parameter:
    """A typer option `--name` (plus `flags`) as a signature parameter."""
    spelled = tuple(dict.fromkeys((*flags, "--" + name.replace("_", "-")))) if flags else ()
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=tp,
                             default=typer.Option(default, *spelled, help=help, show_default=show_default))


def argument(name: str, tp: Any, help: str) -> inspect.Parameter:
    """A required positional typer argument as a signature parameter."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=tp,
                             default=typer.Argument(..., help=help))


def field_options(cls: type, *, only: tuple[str, ...] | None = None, skip: tuple[str, ...] = (),
                  rename: dict[str, str] | None = None, help_suffix: dict[str, str] | None = None,
                  unset: bool = False) -> list[inspect.Parameter]:
    """One option per field of dataclass `cls` (in field order, or in `only`'s order).

    unset=True: every option defaults to None, so only what the user gives is passed on and the
    receiver's own default applies; the help names the dataclass default."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    names = list(only) if only is not None else [n for n in fields if n not in skip]
    out = []
    for name in names:
        f = fields[name]
        default, help_ = default_of(f), help_of(f) + (help_suffix or {}).get(name, "")
        tp, shown = cli_type(hints[name]), True
        if unset:  # show the receiver's default, pass None
            shown = str(default) if default not in (None, dataclasses.MISSING) else False
            tp, default = (tp if typing.get_origin(tp) is typing.Union else Optional[tp]), None
        elif default is dataclasses.MISSING:
            default = ...
        out.append(option((rename or {}).get(name, name), tp, default, help_, f.metadata.get(FLAGS, ()), shown))
    return out


def with_options(params: list[inspect.Parameter], fn: Callable[..., None]) -> Callable[..., None]:
    """`fn`, called with every option by keyword, under the signature typer reads."""
    def command(**values: Any) -> None:
        fn(**values)

    command.__name__, command.__doc__ = fn.__name__, fn.__doc__
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command
