"""The rows and the summary line of `ovid score`, whichever engine scored the texts: the detector
resolved from its name, one row per text, the one-line summary streamed from the rows."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np

from ovid.atomic import atomic_open
from ovid.corpus import meta_path, read_sidecar
from ovid.errors import OvidError
from ovid.metrics import summary
from ovid.normalize import TAMPERING_FLAG, normalize

from .persistence import SHIPPED_PREFIX, load_detector
from .registry import make_detector

RUNTIME_PARAMS = ("cache_dir", "token_budget")  # may differ from what a saved detector was saved with


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
        meta = read_sidecar(mp)  # not ovid's: treated as absent
        if meta is not None and meta.get("format") == "gpt-2-output-dataset":
            flag = det.source_status(source, meta)
            if flag:
                flags[source] = flag
    return flags


def is_score_file(path: Path) -> bool:
    """Whether `path` holds scores ovid wrote: a JSONL whose first row has a score, or a CSV whose
    header names one (read from its first 64 KiB only)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16).split(b"\n", 1)[0].decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if path.suffix == ".csv":
        return "score" in head.split(",")
    try:
        row = json.loads(head)
    except (ValueError, RecursionError):
        return False
    return isinstance(row, dict) and "score" in row and "id" in row


def write_scores(rows: list[dict], out: Path) -> None:
    """JSONL, or CSV when the name ends in .csv; written atomically."""
    if out.suffix == ".csv":
        import pandas as pd

        flat = [{**r, "segments": json.dumps(r["segments"])} if "segments" in r else r for r in rows]
        with atomic_open(out, "w", encoding="utf-8", newline="") as f:
            pd.DataFrame(flat).to_csv(f, index=False)
    else:
        with atomic_open(out, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")


def decisions(det, scores) -> tuple[np.ndarray, np.ndarray] | None:
    """(P(machine), machine at the saved threshold as 0/1) per score, for a calibrated detector;
    None for an uncalibrated one."""
    cal = getattr(det, "calibration_", None)
    if not cal:
        return None
    from .calibration import apply_calibration

    scores = np.asarray(scores, dtype=np.float64)
    return apply_calibration(cal["calibration"], scores), (scores >= cal["threshold"]).astype(np.int64)


def span_row(span) -> dict:
    """A span as a row's `segments` entry."""
    return {"start": span.start, "end": span.end, "sentences": span.sentences, "tokens": span.tokens,
            "score": round(span.score, 6), "p_machine": round(span.p_machine, 6), "verdict": span.verdict}


def score_rows(det, records: list, progress: bool = False, segments: bool = False) -> list[dict]:
    """The output rows of `records` scored by `det`: id, source, score (and the test's own
    fields), label, the calibrated decision, how much the defences had to repair, and with
    `segments` the spans of each text (from the same forward pass, through the engine's cache)."""
    texts, ids = [r.text for r in records], [f"{r.source}:{r.id}" for r in records]
    if not texts:
        return []
    flags = source_flags(det, records)
    if hasattr(det, "score_with_details"):  # a test with its own fields per text (p_value ...)
        scores, details = det.score_with_details(texts, ids=ids, progress=progress)
    else:
        scores, details = det.score(texts, ids=ids, progress=progress), [{} for _ in texts]
    rows = [{"id": r.id, "source": r.source, "score": float(s)} | d
            | ({"label": r.label} if r.label is not None else {}) for r, s, d in zip(records, scores, details)]
    for row, r in zip(rows, records):
        if flags.get(r.source):  # e.g. texts of another tokenizer: no p-value, a flag instead
            row.update(p_value=None, watermark=flags[r.source])
    decided = decisions(det, scores)
    if decided is not None:  # a calibrated detector also gives its decision
        for row, p, m in zip(rows, *decided):
            row["p_machine"], row["machine"] = round(float(p), 6), int(m)
    # how much the defences had to repair: large for tampered text, whatever the detector says
    for row, r in zip(rows, records):
        row["tampering"] = round(normalize(r.text, "repair").change_ratio, 6)
    if segments:
        for row, spans in zip(rows, det.segments(texts, ids=ids)):
            row["segments"] = [span_row(sp) for sp in spans]
    return rows


def summary_line(out, rows: Iterable[dict], det, detector: str, target_fpr: float) -> str:
    """The one line `ovid score` prints, from the rows (streamed: only counts and the labelled
    scores are kept)."""
    n = flagged = marked = untested = tampered = 0
    tested, labels, scores = False, [], []
    alpha = getattr(det, "alpha", 1e-3)
    for row in rows:
        n += 1
        flagged += row.get("machine", 0)
        tampered += row["tampering"] >= TAMPERING_FLAG
        if "p_value" in row:
            tested = True
            marked += row["p_value"] is not None and row["p_value"] < alpha
            untested += row["p_value"] is None
        if "label" in row:
            labels.append(row["label"])
            scores.append(row["score"])
    name = f"{detector} ({det.name})" if detector.startswith(SHIPPED_PREFIX) else det.name
    line = f"{out}: {n} texts scored with {name}"
    if getattr(det, "calibration_", None):
        line += f"; {flagged} flagged as machine at its threshold (set for {det.calibration_['target_fpr']:g} FPR)"
    if tested:
        line += f"; {marked} watermarked (p < {alpha:g})"
        if untested:
            line += f", {untested} not tested (too short or another tokenizer: see the watermark field)"
    if tampered:
        line += f"; {tampered} with signs of tampering (over {TAMPERING_FLAG:.0%} of characters repaired)"
    if labels:
        m = summary(np.asarray(labels), np.asarray(scores), target_fpr)
        if "auroc" in m:
            line += f"; AUROC {m['auroc']:.4f}, TPR at {target_fpr:g} FPR {m[f'tpr_at_{target_fpr:g}_fpr']:.4f}"
    return line
