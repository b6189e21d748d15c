"""Batch scoring (`ovid score`): read corpora, score them with a named or saved detector, write one
row per text, and measure AUROC and TPR at a target FPR when the texts are labelled."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ovid.atomic import atomic_open
from ovid.corpus import meta_path, read_corpora
from ovid.errors import OvidError
from ovid.metrics import summary
from ovid.normalize import TAMPERING_FLAG, normalize
from ovid.paths import check_output_file
from ovid.settings import check_settings, fraction, setting
from ovid.textio import DEFAULT_ENCODING, check_encoding

from .persistence import SHIPPED_PREFIX, load_detector
from .registry import make_detector

RUNTIME_PARAMS = ("cache_dir", "token_budget")  # may differ from what a saved detector was saved with


@dataclass(frozen=True, kw_only=True)
class ScoreJob:
    files: list[str] = setting(factory=list, help="Corpora to score (any format ovid reads).")
    out: str = setting(help="Output: .jsonl, or .csv by its name.")
    detector: str = setting("ovid:default", "ovid:default (the shipped detector), a registry name, or a folder "
                            "saved by detect-train.")
    params: dict[str, Any] = setting(factory=dict, help="The detector's parameters (make_detector's keywords).")
    target_fpr: float = setting(0.01, "FPR at which TPR is reported.", check=fraction())
    encoding: str = setting(DEFAULT_ENCODING, "Text encoding of the corpora (decoded strictly).")
    progress: bool = setting(True, "Show a progress bar.")

    def __post_init__(self) -> None:
        check_settings(self)
        check_encoding(self.encoding)


def resolve_detector(detector: str, params: dict):
    """A saved detector folder, or a registry name built with `params`."""
    if not detector.strip():
        raise OvidError("--detector is empty; give a registry name or a saved detector folder")
    if Path(detector).is_dir() or detector.startswith(SHIPPED_PREFIX):
        det = load_detector(detector)
        fixed = sorted(set(params) - set(RUNTIME_PARAMS))
        if fixed:
            hint = "; name one, e.g. --detector fast-detectgpt" if detector.startswith(SHIPPED_PREFIX) else ""
            raise OvidError(f"--{fixed[0].replace('_', '-')} does not apply to a saved detector ({detector} "
                            f"keeps the settings it was trained with; only --cache-dir and --token-budget change{hint})")
        for k, v in params.items():
            if hasattr(det, k):
                setattr(det, k, v)
        return det.check_params()
    if "/" in detector or Path(detector).exists():
        raise OvidError(f"--detector {detector}: no such saved detector folder")
    return make_detector(detector, **params)


def source_flags(det, records) -> dict[str, str]:
    """{source: flag} for the corpora whose ovid metadata tells the detector something it checks
    (a watermark detector: the scheme, its parameters, the generating model's tokenizer)."""
    if not hasattr(det, "source_status"):
        return {}
    flags = {}
    for source in dict.fromkeys(r.source for r in records):
        mp = meta_path(Path(source))
        try:
            meta = json.loads(mp.read_text(encoding="utf-8")) if mp.is_file() else None
        except (OSError, ValueError):
            meta = None
        if isinstance(meta, dict) and meta.get("format") == "gpt-2-output-dataset":
            flag = det.source_status(source, meta)
            if flag:
                flags[source] = flag
    return flags


def write_scores(rows: list[dict], out: Path) -> None:
    """JSONL, or CSV when the name ends in .csv; written atomically."""
    if out.suffix == ".csv":
        import pandas as pd

        with atomic_open(out, "w", encoding="utf-8", newline="") as f:
            pd.DataFrame(rows).to_csv(f, index=False)
    else:
        with atomic_open(out, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")


def score_files(job: ScoreJob) -> str:
    """Score every text of the job's files; returns a one-line summary (with AUROC when
    labelled). Everything that can be wrong with the output, the detector or the input is
    found before any text is scored."""
    if not job.files:
        raise OvidError("no corpus given to score")
    out = check_output_file(job.out, inputs=[*job.files, *([job.detector] if Path(job.detector).is_dir() else [])])
    det = resolve_detector(job.detector, job.params)
    records = read_corpora(job.files, encoding=job.encoding)
    if not records:
        raise OvidError(f"no texts in {', '.join(map(str, job.files))}")
    texts, ids = [r.text for r in records], [f"{r.source}:{r.id}" for r in records]
    flags = source_flags(det, records)
    if hasattr(det, "score_with_details"):  # a test with its own fields per text (p_value ...)
        scores, details = det.score_with_details(texts, ids=ids, progress=job.progress)
    else:
        scores, details = det.score(texts, ids=ids, progress=job.progress), [{} for _ in texts]
    rows = [{"id": r.id, "source": r.source, "score": float(s)} | d
            | ({"label": r.label} if r.label is not None else {}) for r, s, d in zip(records, scores, details)]
    for row, r in zip(rows, records):
        if flags.get(r.source):  # e.g. texts of another tokenizer: no p-value, a flag instead
            row.update(p_value=None, watermark=flags[r.source])
    if getattr(det, "calibration_", None):  # a calibrated detector also gives its decision
        from .calibration import apply_calibration

        probs = apply_calibration(det.calibration_["calibration"], scores)
        for row, s, p in zip(rows, scores, probs):
            row["p_machine"], row["machine"] = round(float(p), 6), int(s >= det.threshold_)
    # how much the defences had to repair: large for tampered text, whatever the detector says
    for row, r in zip(rows, records):
        row["tampering"] = round(normalize(r.text, "repair").change_ratio, 6)
    tampered = sum(row["tampering"] >= TAMPERING_FLAG for row in rows)
    write_scores(rows, out)
    labelled = [(r.label, s) for r, s in zip(records, scores) if r.label is not None]
    name = f"{job.detector} ({det.name})" if job.detector.startswith(SHIPPED_PREFIX) else det.name
    line = f"{out}: {len(rows)} texts scored with {name}"
    if getattr(det, "calibration_", None):
        cal = det.calibration_
        line += (f"; {sum(r['machine'] for r in rows)} flagged as machine at its threshold "
                 f"(set for {cal['target_fpr']:g} FPR)")
    tested = [row for row in rows if "p_value" in row]
    if tested:
        alpha = getattr(det, "alpha", 1e-3)
        marked = sum(row["p_value"] is not None and row["p_value"] < alpha for row in tested)
        untested = sum(row["p_value"] is None for row in tested)
        line += f"; {marked} watermarked (p < {alpha:g})"
        if untested:
            line += f", {untested} not tested (too short or another tokenizer: see the watermark field)"
    if tampered:
        line += f"; {tampered} with signs of tampering (over {TAMPERING_FLAG:.0%} of characters repaired)"
    fpr = job.target_fpr
    if labelled:
        labels, sc = map(np.asarray, zip(*labelled))
        m = summary(labels, sc, fpr)
        if "auroc" in m:
            line += f"; AUROC {m['auroc']:.4f}, TPR at {fpr:g} FPR {m[f'tpr_at_{fpr:g}_fpr']:.4f}"
    return line
