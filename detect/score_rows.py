"""The rows and the summary line of `ovid score`, whichever engine scored the texts: the detector
resolved from its name, one row per text, the one-line summary streamed from the rows."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np

from ovid.atomic import atomic_open
from ovid.corpus import meta_path, read_sidecar
from ovid.metrics import summary
from ovid.normalize import TAMPERING_FLAG, normalize
from ovid.watermark.config import TEST

from .calibration import reported_p_machine
from .persistence import SHIPPED_PREFIX


def source_flags(det, records) -> dict[str, str]:
    """{source: flag} for the corpora whose ovid metadata tells the detector something it checks
    (a watermark detector: the scheme, its parameters, the generating model's tokenizer)."""
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

        # nested values (segments, warnings, a watermark test) as JSON in their cell
        flat = [{k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v for k, v in r.items()}
                for r in rows]
        with atomic_open(out, "w", encoding="utf-8", newline="") as f:
            pd.DataFrame(flat).to_csv(f, index=False)
    else:
        with atomic_open(out, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")


def print_rows(rows: Iterable[dict], stream) -> None:
    """Rows as JSONL on a stream (standard output when there is no --out)."""
    for r in rows:
        stream.write(json.dumps(r, ensure_ascii=False) + "\n")
    stream.flush()


def check_rows(det, records: list, settings, segments: bool = False) -> list[dict]:
    """Rows of what a person asks of each text (ovid.check): id, source, verdict at the stated FPR,
    P(machine), score, threshold, tokens scored and warnings."""
    from .verdicts import check_with

    checks = check_with(det, [r.text for r in records], settings, segments=segments)
    return [{"id": r.id, "source": r.source, **c.to_dict()} for r, c in zip(records, checks)]


def check_summary(where: str, rows: list[dict], det, detector: str) -> str:
    """The one line for checked texts: how many, how many flagged, at what FPR, how many failed."""
    name = f"{detector} ({det.name})" if detector.startswith(SHIPPED_PREFIX) else det.name
    line = f"{where}: {len(rows)} texts checked with {name}"
    fpr = det.stated_fpr()
    if fpr is not None:
        line += f"; {sum(r.get('verdict') == 'machine' for r in rows)} flagged as machine (at {fpr:g} FPR)"
    else:
        line += "; no verdicts (the detector has no saved threshold)"
    failed = sum(r.get("error") is not None for r in rows)
    return line + (f"; {failed} could not be scored (see their error)" if failed else "")


def score_rows(det, records: list, progress: bool = False, segments: bool = False) -> list[dict]:
    """The output rows of `records` scored by `det`: id, source, score (and the test's own
    fields), label, for a calibrated detector P(machine) at its stated prior (null where it states
    none) and the decision, how much the defences had to repair, and with `segments` the spans of
    each text (from the same forward pass, through the engine's cache)."""
    texts, ids = [r.text for r in records], [f"{r.source}:{r.id}" for r in records]
    if not texts:
        return []
    flags = source_flags(det, records)
    scores, details = det.score_with_details(texts, ids=ids, progress=progress)  # a test adds its p_value ...
    rows = [{"id": r.id, "source": r.source, "score": float(s)} | d
            | ({"label": r.label} if r.label is not None else {}) for r, s, d in zip(records, scores, details)]
    for row, r in zip(rows, records):
        if flags.get(r.source):  # e.g. texts of another tokenizer: no p-value, a flag instead
            row.update(p_value=None, watermark=flags[r.source])
    cal = det.calibration()
    if cal:  # a calibrated detector also gives its decision
        decided = det.decisions(scores, details)
        for row, (p, prior), m in zip(rows, reported_p_machine(cal, scores, decided), decided):
            row["p_machine"], row["prior"], row["machine"] = p, prior, int(m)
    # how much the defences had to repair: large for tampered text, whatever the detector says
    for row, r in zip(rows, records):
        row["tampering"] = round(normalize(r.text, "repair").change_ratio, 6)
    if segments:
        for row, spans in zip(rows, det.segments(texts, ids=ids)):
            row["segments"] = [sp.as_row() for sp in spans]
    return rows


def summary_line(out, rows: Iterable[dict], det, detector: str, target_fpr: float) -> str:
    """The one line `ovid score` prints, from the rows (streamed: only counts and the labelled
    scores are kept)."""
    n = flagged = marked = untested = tampered = 0
    tested, labels, scores = False, [], []
    alpha = det.test_level() or TEST.alpha
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
    if det.calibration():
        line += f"; {flagged} flagged as machine at its threshold (set for {det.stated_fpr():g} FPR)"
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
