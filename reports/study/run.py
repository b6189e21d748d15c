"""`ovid report STUDY.toml --out DIR`: run a study in one batch, then render it.

Every expensive step leaves a reusable result in DIR, so a second run (or a run restarted after
an interruption) redoes only what changed: generated corpora (resumable files, in a folder named
by a hash of their settings), token statistics (the engine's Parquet cache), trained detectors
(saved folders with a key of their parameters and training texts), the Bloom filter and the
memorised control model. Metrics, tables and the report are recomputed each run (seconds).
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ovid.atomic import atomic_open, write_json
from ovid.corpus import record_domain
from ovid.hashing import sha256_file
from ovid.log import logger
from ovid.paths import check_output_dir, left_as_found_on_failure, missing_top
from ovid.version import __version__

from ..memorization.study import memorization_tables
from ..render import render_report
from ..schema import GLTR_EXAMPLES, STUDY_JSON
from .config import StudyConfig, load_study
from .corpora import PROMPTS, Corpus, existing_corpora, generate_corpora, make_split, read_human, shown_path
from .detection import cross_size_table, detection_tables, fpr_domain_table, gltr_examples, length_table, summary_table
from .detectors import build_detector, detector_slug, train_texts, trained_on
from .mixed import mixed_table
from .robustness import robustness_table
from .watermark import watermark_tables

say = logger("ovid report")


STUDY_MARK = ".ovid-study"  # in a study's output folder from its first step: a rerun may resume it


STUDY_MARK_TEXT = "ovid study\n"


def is_study_folder(folder: Path) -> bool:
    """Whether ovid's study made `folder`, by what its files hold, not by their names alone: its
    marker (written at the first step), or a study.json ovid wrote beside a tables/ folder."""
    mark, record = folder / STUDY_MARK, folder / STUDY_JSON
    try:
        if mark.is_file() and not mark.is_symlink() and mark.stat().st_size < 64:
            text = mark.read_text(encoding="utf-8")
            if text == STUDY_MARK_TEXT or (text == "" and (folder / "tables").is_dir()):  # "": before markers had text
                return True
        if record.is_file() and not record.is_symlink() and (folder / "tables").is_dir() \
                and record.stat().st_size < (64 << 20):
            rec = json.loads(record.read_text(encoding="utf-8"))
            return isinstance(rec, dict) and {"name", "created", "ovid_version"} <= rec.keys()
    except (OSError, ValueError, RecursionError):
        return False
    return False


def write_table(out: Path, name: str, df: pd.DataFrame) -> None:
    with atomic_open(out / "tables" / name, "w", encoding="utf-8", newline="") as f:
        df.to_csv(f, index=False)


def timed(timings: dict, step: str, fn: Callable):
    t0 = time.perf_counter()
    result = fn()
    timings[step] = round(time.perf_counter() - t0, 1)
    return result


def run_study(study_path: str | Path, out_dir: str | Path, progress: bool = True) -> Path:
    """Run every part of the study and render DIR/index.html; returns its path."""
    cfg = load_study(study_path)
    inputs = [cfg.source, *cfg.human.corpus, *(m.corpus for m in cfg.machine),
              *((cfg.memorization.reference or []) if cfg.memorization else [])]
    out = check_output_dir(out_dir, inputs=inputs, ours=is_study_folder, what="of an ovid study")
    with left_as_found_on_failure(*(missing_top(out) or [out]), holds_work=lambda: saved_work(out)):
        return _run(cfg, out, progress)


def saved_work(out: Path) -> bool:
    """Whether a study folder holds any file a rerun resumes from (its marker and the prompt
    files every run rebuilds are none)."""
    return any(p.is_file() and p.name not in (STUDY_MARK, PROMPTS) for p in out.rglob("*"))


def _run(cfg: StudyConfig, out: Path, progress: bool) -> Path:
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / STUDY_MARK).write_text(STUDY_MARK_TEXT, encoding="utf-8")
    cache = out / "cache"
    timings: dict[str, float] = {}
    human = read_human(cfg)
    corpora = timed(timings, "generate", lambda: (generate_corpora(cfg, human, out, progress) if cfg.generate else [])
                    + existing_corpora(cfg))
    split = make_split(cfg, human, corpora)
    say(f"{len(human)} human texts ({len(split.human_test)} held out), {len(corpora)} machine corpora")

    n_train: dict[str, int] = {}

    def fit_all():
        texts, labels = train_texts(split)
        # the threshold weighs each domain's human texts the same (machine texts set no threshold)
        domains = [record_domain(r) for r in split.human_train] + ["machine"] * (len(texts) - len(split.human_train))
        dets = {}
        for spec in cfg.detectors:
            det, reused = build_detector(spec, texts, labels, cfg, out / "detectors" / detector_slug(spec.label), cache,
                                         domains)
            say(f"detector {spec.label}" + (" (reused)" if reused else " (fitted)"))
            dets[spec.label] = det
            n_train[spec.label] = trained_on(det, spec, len(texts))
        return dets

    dets = timed(timings, "detectors", fit_all)
    detection, roc = timed(timings, "score", lambda: detection_tables(dets, corpora, split, cfg, n_train))
    write_table(out, "detection.csv", detection)
    write_table(out, "fpr_by_domain.csv", fpr_domain_table(dets, split, cfg))
    write_table(out, "roc.csv", roc)
    if cfg.cross_size and len(corpora) > 1:
        write_table(out, "cross_size.csv", timed(timings, "cross_size", lambda: cross_size_table(cfg, corpora, split, out, cache)))
    if cfg.robustness:
        write_table(out, "robustness.csv", timed(timings, "robustness", lambda: robustness_table(dets, corpora, split, cfg)))
    if cfg.watermark:
        marks, quality, posthoc = timed(timings, "watermark", lambda: watermark_tables(cfg, split, dets, out, progress))
        write_table(out, "watermark.csv", marks)
        write_table(out, "watermark_quality.csv", quality)
        write_table(out, "watermark_posthoc.csv", posthoc)
    if cfg.study.mixed:
        write_table(out, "mixed.csv", timed(timings, "mixed", lambda: mixed_table(dets, corpora, split, cfg)))
    if cfg.study.length_buckets:
        write_table(out, "length.csv", timed(timings, "length", lambda: length_table(dets, corpora, split, cfg)))
    examples = timed(timings, "gltr_examples", lambda: gltr_examples(cfg, corpora, split, out))
    with atomic_open(out / "tables" / GLTR_EXAMPLES, "w", encoding="utf-8") as f:
        json.dump(examples, f, ensure_ascii=False)
    overlap_summary, memo_info = None, None
    if cfg.memorization:
        docs, overlap_summary, spans, memo_info = timed(
            timings, "memorization", lambda: memorization_tables(cfg, human, corpora, out, progress))
        write_table(out, "overlap_docs.csv", docs)
        write_table(out, "overlap_summary.csv", overlap_summary)
        write_table(out, "overlap_spans.csv", spans)
    write_table(out, "summary.csv", summary_table(detection, overlap_summary, cfg))
    write_json(out / STUDY_JSON, study_record(cfg, corpora, timings, memo_info, out))
    page = render_report(out)
    say(f"report: {page}")
    return page


def study_record(cfg: StudyConfig, corpora: list[Corpus], timings: dict, memo_info: dict | None,
                 out: Path) -> dict:
    """study.json: what ran, with which versions, seeds, models and data (paths shown relative
    to the study, with their SHA-256)."""
    import sklearn
    import torch
    import transformers

    sources = list(cfg.human.corpus) + [c.path for c in corpora]
    return {"name": cfg.study.name, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "ovid_version": __version__,
            "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                         "transformers": transformers.__version__, "scikit-learn": sklearn.__version__,
                         "numpy": np.__version__, "pandas": pd.__version__},
            "seeds": {"study": cfg.study.seed, "generate": cfg.generate.seed if cfg.generate else None},
            "models": sorted({c.model for c in corpora if c.model} |
                             {str(d.params.get("model") or d.params.get("backbone") or d.params.get("encoder"))
                              for d in cfg.detectors
                              if d.params.get("model") or d.params.get("backbone") or d.params.get("encoder")}),
            "data_hashes": {shown_path(s, out, cfg.source): sha256_file(s) if Path(s).is_file() else None
                            for s in sources},
            "timings_s": timings, "target_fpr": cfg.study.target_fpr, "memorization": memo_info,
            "config": cfg.raw, "study_file": Path(cfg.source).name}
