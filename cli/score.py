"""`ovid score`: score corpora with a named or saved detector, one row per text."""
from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from ovid.detect.params import EngineConfig

from .options import argument, field_options, option, with_options

ENGINE_OPTIONS = ("model", "reference_model", "dtype", "max_length", "token_budget", "cache_dir")
OPTIONS = [
    argument("files", List[str], "Corpora to score (any format ovid reads)."),
    option("detector", str, "fast-detectgpt", "Registry name, or a folder saved by detect-train."),
    *field_options(EngineConfig, only=ENGINE_OPTIONS, unset=True),
    option("out", Path, ..., "Output: .jsonl, or .csv by its name."),
    option("target_fpr", float, 0.01, "FPR at which TPR is reported."),
    option("progress", bool, True, "Show a progress bar."),
]


def score(*, files: list[str], detector: str, out: Path, target_fpr: float, progress: bool, **engine) -> None:
    """Score texts (higher = more machine-like); prints AUROC and TPR at 1% FPR when labelled."""
    from ovid.detect.score_job import score_files

    params = {k: v for k, v in engine.items() if v is not None}
    typer.echo(score_files(detector=detector, files=files, out=out, params=params, target_fpr=target_fpr,
                           progress=progress))


command = with_options(OPTIONS, score)
