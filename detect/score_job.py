"""Batch scoring (`ovid score`): read corpora, score them with a named or saved detector, write one
row per text, and measure AUROC and TPR at a target FPR when the texts are labelled."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovid.corpus import STDIN, Record, check_sources, read_corpora, read_stdin
from ovid.errors import OvidError
from ovid.hardware import set_threads
from ovid.paths import check_output_file
from ovid.ray_tasks import RaySettings, check_ray_only
from ovid.settings import at_least, check_settings, fraction, setting
from ovid.textio import DEFAULT_ENCODING, check_encoding

from .persistence import resolve_detector
from .ray_scoring import score_files_on_ray
from .score_rows import check_rows, check_summary, is_score_file, print_rows, score_rows, summary_line, write_scores


@dataclass(frozen=True, kw_only=True)
class ScoreJob(RaySettings):
    files: list[str] = setting(factory=list, help="Corpora to score (any format ovid reads), or - for texts on "
                               "standard input (one per line, or JSONL).")
    texts: list[str] = setting(factory=list, help="A text to check, given on the command line (repeat for more).")
    out: str | None = setting(None, "Output: .jsonl, or .csv by its name; with --engine ray, any other name is a "
                              "folder of JSONL shards. Without it, JSONL rows to standard output and the summary "
                              "to standard error.")
    detector: str = setting("ovid:default", "ovid:default (the shipped detector), a registry name, or a folder "
                            "saved by detect-train.")
    params: dict[str, Any] = setting(factory=dict, help="The detector's parameters (make_detector's keywords).")
    target_fpr: float = setting(0.01, "FPR at which TPR is reported.", check=fraction())
    encoding: str = setting(DEFAULT_ENCODING, "Text encoding of the corpora (decoded strictly).")
    progress: bool = setting(True, "Show a progress bar.")
    overwrite: bool = setting(False, "Replace an existing --out that is not a file of ovid's scores.")
    segments: bool = setting(False, "Also write which parts of each text a machine wrote: a segments field of "
                             "spans (character offsets, sentences, score, P(machine), verdict).")
    threads: int | None = setting(None, "Intra-op threads (default: this machine's cores, shared evenly among "
                                  "the ovid jobs running on it; OMP_NUM_THREADS is honoured).",
                                  check=at_least(1, optional=True))
    shard_bytes: int = setting(1_000_000, "Ray: corpus text per unit of work and output shard (the unit "
                               "that a rerun does not redo).", check=at_least(1))

    def __post_init__(self) -> None:
        check_settings(self)
        check_encoding(self.encoding)
        check_ray_only(self, ("ray_address", "workers", "gpus_per_worker", "shard_bytes"))


def score_files(job: ScoreJob, stdin=None, stdout=None) -> str:
    """Score every text of the job's files (or, for texts typed or piped in, check each as
    `ovid.check` does); returns a one-line summary (with AUROC when labelled). The rows go to
    job.out, or as JSONL to `stdout` without one. Everything that can be wrong with the output,
    the detector or the input is found before any text is scored."""
    given = bool(job.texts) or STDIN in job.files
    if not job.files and not job.texts:
        raise OvidError("no corpus given to score: name files, - for standard input, or --text")
    if given and (len(job.files) > (STDIN in job.files) or (job.texts and job.files)):
        raise OvidError("give texts one way: corpus files, - (standard input) or --text")
    if job.engine == "ray":
        if given or job.out is None:
            raise OvidError("--engine ray scores corpus files into --out; give both")
        return score_files_on_ray(job)
    if not given:
        check_sources(job.files)
    inputs = [*(f for f in job.files if f != STDIN), *([job.detector] if Path(job.detector).is_dir() else [])]
    out = None if job.out is None else check_output_file(job.out, inputs=inputs, overwrite=job.overwrite,
                                                         ours=is_score_file, what="a file of ovid's scores")
    if given:
        records = (read_stdin((stdin or sys.stdin.buffer).read(), job.encoding) if job.files
                   else [Record(str(i), t, None, "--text") for i, t in enumerate(job.texts)])
        if not records:
            raise OvidError("no texts on standard input")
        blank = next((i for i, t in enumerate(job.texts, 1) if not t.strip()), None)
        if blank is not None:
            raise OvidError(f"--text {blank} is blank; give the text to check")
    set_threads(job.threads)
    det = resolve_detector(job.detector, job.params)
    if job.segments:
        det.segment_model()  # a detector that cannot segment fails here, before any text is scored
    if given:
        from .verdicts import CheckSettings

        rows = check_rows(det, records, CheckSettings(), segments=job.segments)
    else:
        records = read_corpora(job.files, encoding=job.encoding)
        if not records:
            raise OvidError(f"no texts in {', '.join(map(str, job.files))}")
        rows = score_rows(det, records, progress=job.progress, segments=job.segments)
    if out is None:
        print_rows(rows, stdout or sys.stdout)
    else:
        write_scores(rows, out)
    where = out if out is not None else "standard output"
    if given:
        return check_summary(str(where), rows, det, job.detector)
    return summary_line(where, rows, det, job.detector, job.target_fpr)
