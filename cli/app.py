"""The `ovid` command line: one typer app, a module per command. Options are built from the
configuration dataclasses (cli/options.py); the work happens in the library."""
from __future__ import annotations

import sys

import typer

from ovid.errors import OvidError

from . import generate, overlap, resources, score, study, train

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]}, help="ovid: synthetic-text detection and responsible-release studies.")
app.command("models")(resources.models)
app.command("generate")(generate.command)
app.command("score")(score.command)
app.command("train")(train.command)
app.command("report")(study.report)
app.command("download")(resources.download)
app.command("bloom")(overlap.command)


def main() -> None:
    """Entry point: user-facing errors become one line on stderr and exit code 2."""
    try:
        app(args=train.spread_lists(sys.argv[1:]) if sys.argv[1:2] == ["train"] else None)
    except OvidError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
