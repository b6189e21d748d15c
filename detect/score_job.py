"""Batch scoring (`ovid score`): read corpora, score them with a named or saved detector, write one
row per text, and measure AUROC and TPR at a target FPR when the texts are labelled."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovid.corpus import check_sources, read_corpora
from ovid.errors import OvidError
from ovid.paths import check_output_file
from ovid.ray_tasks import RaySettings, check_ray_only
from ovid.settings import at_least, check_settings, fraction, setting
from ovid.textio import DEFAULT_ENCODING, check_encoding

from .ray_scoring import score_files_on_ray
from .score_rows import is_score_file, resolve_detector, score_rows, summary_line, write_scores


@dataclass(frozen=True, kw_only=True)
class ScoreJob(RaySettings):
    files: list[str] = setting(factory=list, help="Corpora to score (any format ovid reads).")
    out: str = setting(help="Output: .jsonl, or .csv by its name; with --engine ray, any other name is a "
                       "folder of JSONL shards.")
    detector: str = setting("ovid:default", "ovid:default (the shipped detector), a registry name, or a folder "
                            "saved by detect-train.")
    params: dict[str, Any] = setting(factory=dict, help="The detector's parameters (make_detector's keywords).")
    target_fpr: float = setting(0.01, "FPR at which TPR is reported.", check=fraction())
    encoding: str = setting(DEFAULT_ENCODING, "Text encoding of the corpora (decoded strictly).")
    progress: bool = setting(True, "Show a progress bar.")
    overwrite: bool = setting(False, "Replace an existing --out that is not a file of ovid's scores.")
    segments: bool = setting(False, "Also write which parts of each text a machine wrote: a segments field of "
                             "spans (character offsets, sentences, score, P(machine), verdict).")
    shard_bytes: int = setting(1_000_000, "Ray: corpus text per unit of work and output shard (the unit "
                               "that a rerun does not redo).", check=at_least(1))

    def __post_init__(self) -> None:
        check_settings(self)
        check_encoding(self.encoding)
        check_ray_only(self, ("ray_address", "workers", "gpus_per_worker", "shard_bytes"))


def score_files(job: ScoreJob) -> str:
    """Score every text of the job's files; returns a one-line summary (with AUROC when
    labelled). Everything that can be wrong with the output, the detector or the input is
    found before any text is scored."""
    if not job.files:
        raise OvidError("no corpus given to score")
    if job.engine == "ray":
        return score_files_on_ray(job)
    check_sources(job.files)
    out = check_output_file(job.out, inputs=[*job.files, *([job.detector] if Path(job.detector).is_dir() else [])],
                            overwrite=job.overwrite, ours=is_score_file, what="a file of ovid's scores")
    det = resolve_detector(job.detector, job.params)
    if job.segments:
        det.segment_model()  # a detector that cannot segment fails here, before any text is scored
    records = read_corpora(job.files, encoding=job.encoding)
    if not records:
        raise OvidError(f"no texts in {', '.join(map(str, job.files))}")
    rows = score_rows(det, records, progress=job.progress, segments=job.segments)
    write_scores(rows, out)
    return summary_line(out, rows, det, job.detector, job.target_fpr)
