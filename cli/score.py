"""`ovid score`: score corpora with a named or saved detector, one row per text."""
from __future__ import annotations

from typing import List

import typer

from ovid.detect.params import EngineConfig
from ovid.detect.score_job import ScoreJob
from ovid.settings import field_help

from .options import argument, field_options, with_options
from .watermark_options import field_name, watermark_options

ENGINE_OPTIONS = ("model", "reference_model", "dtype", "max_length", "token_budget", "cache_dir")
RAY_OPTIONS = ("engine", "ray_address", "workers", "gpus_per_worker", "shard_bytes")
OPTIONS = [
    argument("files", List[str], field_help(ScoreJob, "files")),
    *field_options(ScoreJob, only=("detector",)),
    *field_options(EngineConfig, only=ENGINE_OPTIONS, unset=True),
    *watermark_options(detector=True),
    *field_options(ScoreJob, only=("out", "overwrite", "segments", "target_fpr", "encoding", "progress")),
    *field_options(ScoreJob, only=RAY_OPTIONS),
]


def score(*, files: list[str], detector: str, out: str, overwrite: bool, segments: bool, target_fpr: float,
          encoding: str, progress: bool, **engine) -> None:
    """Score texts (higher = more machine-like); prints AUROC and TPR at 1% FPR when labelled."""
    from ovid.detect.score_job import score_files
    from ovid.models import quiet_loading

    quiet_loading(not progress)
    on_ray = {k: engine.pop(k) for k in RAY_OPTIONS}
    params = {field_name(k): v for k, v in engine.items() if v is not None}
    job = ScoreJob(files=files, out=out, overwrite=overwrite, segments=segments, detector=detector, params=params,
                   target_fpr=target_fpr, encoding=encoding, progress=progress, **on_ray)
    typer.echo(score_files(job))


command = with_options(OPTIONS, score)
