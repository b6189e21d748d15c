"""`ovid report`: run a study file and render its report."""
from __future__ import annotations

from pathlib import Path

import typer


def report(study: Path = typer.Argument(..., help="Study file (TOML; schema in the README)."),
           out: Path = typer.Option(..., help="Output folder: index.html, report.md, tables/, figures/, study.json."),
           progress: bool = typer.Option(True, help="Show progress bars.")) -> None:
    """Run a detection-rate and memorization study and render its report (resumable)."""
    from ovid.models import quiet_loading
    from ovid.reports.study.run import run_study

    quiet_loading(not progress)

    typer.echo(f"report: {run_study(study, out, progress).resolve()}")
