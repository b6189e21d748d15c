"""The `ovid` command line: one typer app, a module per command. Options are built from the
configuration dataclasses (cli/options.py); the work happens in the library."""
from __future__ import annotations

import sys

import typer

from . import attack, generate, overlap, resources, score, serve, study, train
from .runner import print_version, run

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="ovid: synthetic-text detection and responsible-release studies.")


@app.callback()
def ovid(version: bool = typer.Option(False, "--version", is_eager=True, callback=print_version,
                                      help="Print the version and exit.")) -> None:
    """The options before a command: --version (and typer's --install-completion)."""
app.command("models")(resources.models)
app.command("generate")(generate.command)
app.command("score")(score.command)
app.command("train")(train.command)
app.command("report")(study.report)
app.command("download")(resources.download)
app.command("bloom")(overlap.command)
app.command("attack")(attack.command)
app.command("serve")(serve.command)


def run_ovid(args: list[str]) -> int:
    """`ovid ARGS` in this process; returns the exit code."""
    return run(app, train.old_list_form(args) if args[:1] == ["train"] else args, "ovid")


def main(argv: list[str] | None = None) -> None:
    """The `ovid` entry point."""
    sys.exit(run_ovid(sys.argv[1:] if argv is None else argv))
