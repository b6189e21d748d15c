"""`ovid score`: score corpora with a named or saved detector, one row per text."""
from __future__ import annotations

from typing import List, Optional

import typer

from ovid.detect.params import EngineConfig
from ovid.detect.score_job import ScoreJob
from ovid.settings import field_help

from .options import argument, field_options, with_options
from .watermark_options import field_name, watermark_options

ENGINE_OPTIONS = ("model", "reference_model", "dtype", "max_length", "token_budget", "cache_dir")
RAY_OPTIONS = ("engine", "ray_address", "workers", "gpus_per_worker", "shard_bytes")
OPTIONS = [
    argument("files", Optional[List[str]], field_help(ScoreJob, "files"), required=False),
    *field_options(ScoreJob, only=("texts", "detector"), spell={"texts": "--text"}),
    *field_options(EngineConfig, only=ENGINE_OPTIONS, unset=True),
    *watermark_options(detector=True),
    *field_options(ScoreJob, only=("out", "overwrite", "segments", "target_fpr", "encoding", "progress",
                                   "threads")),
    *field_options(ScoreJob, only=RAY_OPTIONS),
]


def score(*, files: list[str] | None, texts: list[str], detector: str, out: str | None, overwrite: bool,
          segments: bool, target_fpr: float, encoding: str, progress: bool, threads: int | None, **engine) -> None:
    """Score corpora (higher = more machine-like; AUROC and TPR at 1% FPR when labelled), or check
    texts piped in (-) or typed (--text): per text the verdict at the detector's FPR, P(machine) and
    warnings. Without --out, JSONL rows go to standard output and the summary to standard error."""
    from ovid.detect.score_job import score_files
    from ovid.models import quiet_loading

    quiet_loading(not progress)
    on_ray = {k: engine.pop(k) for k in RAY_OPTIONS}
    params = {field_name(k): v for k, v in engine.items() if v is not None}
    job = ScoreJob(files=list(files or []), texts=list(texts or []), out=out, overwrite=overwrite, segments=segments,
                   detector=detector, params=params, target_fpr=target_fpr, encoding=encoding, progress=progress,
                   threads=threads, **on_ray)
    typer.echo(score_files(job), err=out is None)


command = with_options(OPTIONS, score)
