"""Running a CLI so that every user-facing failure is one line on stderr with exit code 2."""
from __future__ import annotations

import typer
from typer.exceptions import TyperException

from ovid.errors import OvidError
from ovid.models import quiet_loading
from ovid.settings import SettingError

from .watermark_options import NAMES as WATERMARK_NAMES

OPTION_NAMES = {"strategy": "decoding", **WATERMARK_NAMES}  # settings whose CLI option has another name


def version_line() -> str:
    from ovid.version import __version__

    return f"ovid {__version__}"


def print_version(value: bool) -> None:
    """--version: the version, then stop (an eager option, before any other is checked)."""
    if value:
        typer.echo(version_line())
        raise typer.Exit()


def one_line(message: str) -> str:
    """A message as one line, whatever it quotes (a file name may hold a line break)."""
    return message.strip().replace("\r", "\\r").replace("\n", "\\n")


def run(command: typer.Typer, args: list[str], prog: str) -> int:
    """Run a CLI and turn every user-facing failure into one line on stderr and exit code 2:
    ovid's own errors, settings out of range (named as their option) and click's usage errors."""
    try:
        code = command(args=args, prog_name=prog, standalone_mode=False)
    except SettingError as e:
        option = e.option or f"--{OPTION_NAMES.get(e.field, e.field).replace('_', '-')}"
        typer.echo(one_line(f"error: {option} {e.problem}"), err=True)
        return 2
    except OvidError as e:
        typer.echo(one_line(f"error: {e}"), err=True)
        return 2
    except OSError as e:  # the system refused (disk full, a file vanished): still one line
        where = f"{e.filename}: " if e.filename else ""
        typer.echo(one_line(f"error: {where}{e.strerror or e}"), err=True)
        return 1
    except TyperException as e:  # click's usage errors (unknown option, missing argument): exit code 2
        message = e.format_message() if hasattr(e, "format_message") else "aborted"
        message = message.replace("Value error, ", "")  # typer checks a choice with pydantic, which says so
        typer.echo(f"error: {' '.join(message.split())}", err=True)
        return getattr(e, "exit_code", 130)
    finally:
        quiet_loading(False)  # --no-progress lasts one command (run_ovid may run several in one process)
    return code if isinstance(code, int) else 0
