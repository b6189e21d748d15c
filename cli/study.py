"""`ovid report`: run a study file and render its report."""
from __future__ import annotations

from pathlib import Path

import typer

from ovid.errors import OvidError


def report(study: Path = typer.Argument(..., help="Study file (TOML; schema in the README)."),
           out: Path = typer.Option(..., help="Output folder: index.html, report.md, tables/, figures/, study.json."),
           progress: bool = typer.Option(True, help="Show progress bars.")) -> None:
    """Run a detection-rate and memorization study and render its report (resumable)."""
    if not study.is_file():  # said before the study's imports (torch, scikit-learn) take seconds
        raise OvidError(f"{study}: no such study file")
    from ovid.models import quiet_loading
    from ovid.reports.study.run import run_study

    quiet_loading(not progress)

    typer.echo(f"report: {run_study(study, out, progress).resolve()}")
