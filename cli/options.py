"""CLI options built from configuration dataclasses (ovid/settings.py): each option's name, type,
default and help come from the field it sets, so the CLI cannot drift from the Python API.

Conventions every command shares: a setting with a fixed set of values is a choice (shown in
--help and completed by the shell); a list is a repeatable option that also takes commas
(`--x a --x b` is `--x a,b`); `--out` is a path; a renamed option keeps its old spelling as a
hidden alias for one release, which says so on stderr."""
from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import os
import types
import typing
from pathlib import Path
from typing import Any, Callable, List, Literal, NoReturn, Optional

import typer

from ovid.settings import CHECK, FLAGS, SettingError, default_of, help_of

PATH_FIELDS = ("out", "out_dir")  # str fields that name a file or folder: typed as paths, passed on as str
WHOLE_FIELDS = ("texts",)  # list fields whose values are free text: repeated only, never split at commas
ALIAS = "old__"  # prefix of a hidden alias's parameter name
ALIASES: dict[str, tuple[str, str, str]] = {}  # alias parameter -> (old spelling, parameter it sets, new spelling)


def fail(message: str) -> NoReturn:
    """A user's mistake: one line on stderr, exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def split_list(value: str) -> list[str]:
    """"a,b,,c" -> ["a", "b", "c"]."""
    return [v for v in value.split(",") if v]


def list_values(item: Any, name: str) -> Callable[[Any], Any]:
    """The callback of a list option: every value given, split at commas (unless it names an
    existing file or folder, whose name may hold one), each converted to `item`."""
    def flatten(values: Any) -> Any:
        if values is None:
            return None
        out = []
        for value in values:
            for v in ([value] if os.path.exists(value) else split_list(value)):
                try:
                    out.append(item(v))
                except ValueError:
                    raise typer.BadParameter(f"{v!r} is not {'an integer' if item is int else 'a number'}",
                                             param_hint=f"'{name}'") from None
        return out
    return flatten


def as_str(value: Any) -> Any:
    return None if value is None else str(value)


def choices_of(f: dataclasses.Field) -> tuple[str, ...] | None:
    """The values a field's check allows, when it allows a fixed set (ovid.settings.one_of)."""
    return getattr(f.metadata.get(CHECK), "choices", None)


def cli_type(tp: Any, choices: tuple[str, ...] | None = None) -> Any:
    """The type typer parses for a field's type: X | None -> Optional[X], list[X] -> List[X],
    and a str with fixed `choices` -> Literal[choices] (a click choice: shown, completed, checked)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return Optional[cli_type(inner[0], choices)]
    if origin in (list, tuple, collections.abc.Sequence):
        return List[cli_type(typing.get_args(tp)[0])]
    if tp is str and choices:
        return Literal[choices]
    return tp


def option(name: str, tp: Any, default: Any, help: str, flags: tuple[str, ...] = (),
           show_default: bool | str = True, spelled: str | None = None, path_as_str: bool = False,
           split: bool = True) -> inspect.Parameter:
    """A typer option `--name` (or `spelled`, plus `flags`) as a signature parameter. A list type
    makes a repeatable option that also takes commas (split=False: repeated only, for free text);
    path_as_str: a Path handed on as a str."""
    long = spelled or "--" + name.replace("_", "-")
    decls = tuple(dict.fromkeys((*flags, long))) if flags or spelled else ()
    extra: dict[str, Any] = {}
    optional = typing.get_origin(tp) is typing.Union
    inner = next(a for a in typing.get_args(tp) if a is not type(None)) if optional else tp
    if typing.get_origin(inner) is list:  # taken as strings: "3,4" is two integers only once split
        item = typing.get_args(inner)[0]
        choices = typing.get_args(item) if typing.get_origin(item) is Literal else ()
        extra = {"callback": list_values(str if choices else item, long),
                 "metavar": f"<{'|'.join(choices) or item.__name__}>,..."} if split else {"metavar": "<text>"}
        if choices:
            extra["autocompletion"] = lambda incomplete: [c for c in choices if c.startswith(incomplete)]
        tp = Optional[List[str]] if optional else List[str]
    elif path_as_str:
        extra = {"callback": as_str}
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=tp,
                             default=typer.Option(default, *decls, help=help, show_default=show_default, **extra))


def alias(old: str, new: inspect.Parameter) -> inspect.Parameter:
    """A hidden option spelled `old` that sets what `new` sets, for one release after a rename;
    with_options says so on stderr when it is used."""
    info = new.default
    spelled = max(info.param_decls or ["--" + new.name.replace("_", "-")], key=len)
    name = ALIAS + old.lstrip("-").replace("-", "_")
    ALIASES[name] = (old, new.name, spelled)
    tp = new.annotation if typing.get_origin(new.annotation) is typing.Union else Optional[new.annotation]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=tp,
                             default=typer.Option(None, old, hidden=True, callback=info.callback,
                                                  help=f"The old name of {spelled}, for one more release."))


def argument(name: str, tp: Any, help: str, required: bool = True) -> inspect.Parameter:
    """A positional typer argument as a signature parameter (optional ones default to None)."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=tp,
                             default=typer.Argument(... if required else None, help=help, show_default=False))


def field_options(cls: type, *, only: tuple[str, ...] | None = None, skip: tuple[str, ...] = (),
                  rename: dict[str, str] | None = None, help_suffix: dict[str, str] | None = None,
                  unset: bool = False, spell: dict[str, str] | None = None) -> list[inspect.Parameter]:
    """One option per field of dataclass `cls` (in field order, or in `only`'s order).

    unset=True: every option defaults to None, so only what the user gives is passed on and the
    receiver's own default applies; the help names the dataclass default. `rename` changes the
    parameter and its option; `spell` only the option (`{"n": "--ngram-len"}`)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    names = list(only) if only is not None else [n for n in fields if n not in skip]
    out = []
    for name in names:
        f = fields[name]
        default, help_ = default_of(f), help_of(f) + (help_suffix or {}).get(name, "")
        tp, shown = cli_type(hints[name], choices_of(f)), True
        path = name in PATH_FIELDS and tp in (str, Optional[str])
        if path:
            tp = Path if tp is str else Optional[Path]
        if unset:  # show the receiver's default, pass None
            shown = str(default) if default not in (None, dataclasses.MISSING) else False
            tp, default = (tp if typing.get_origin(tp) is typing.Union else Optional[tp]), None
        elif default is dataclasses.MISSING:
            default = ...
        out.append(option((rename or {}).get(name, name), tp, default, help_, f.metadata.get(FLAGS, ()), shown,
                          (spell or {}).get(name), path_as_str=path, split=name not in WHOLE_FIELDS))
    return out


def given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def with_options(params: list[inspect.Parameter], fn: Callable[..., None]) -> Callable[..., None]:
    """`fn`, called with every option by keyword, under the signature typer reads. A hidden alias
    (alias()) sets its option, with a note on stderr; a setting out of range is named by the
    option's spelling where that is not the field's name."""
    spelled = {p.name: max(p.default.param_decls, key=len) for p in params
               if getattr(p.default, "param_decls", None) and not p.name.startswith(ALIAS)
               and "--" + p.name.replace("_", "-") not in p.default.param_decls}

    def command(ctx: typer.Context, **values: Any) -> None:
        for name in [n for n in values if n.startswith(ALIAS)]:
            value = values.pop(name)
            if value is None:
                continue
            old, target, new = ALIASES[name]
            if given(ctx, target):
                fail(f"give {new} or its old name {old}, not both")
            typer.echo(f"note: {old} is now {new}; the old name goes in the next release", err=True)
            values[target] = value
        try:
            fn(**values)
        except SettingError as e:
            if e.option is None and e.field in spelled:
                e.option = spelled[e.field]
            raise

    command.__name__, command.__doc__ = fn.__name__, fn.__doc__
    context = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
    command.__signature__ = inspect.Signature([context, *params])  # type: ignore[attr-defined]
    command.__annotations__ = {"ctx": typer.Context, **{p.name: p.annotation for p in params}}
    return command
