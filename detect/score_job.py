"""Batch scoring (`ovid score`): read corpora, score them with a named or saved detector, write one
row per text, and measure AUROC and TPR at a target FPR when the texts are labelled."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ovid.atomic import atomic_open
from ovid.corpus import read_corpora
from ovid.errors import OvidError
from ovid.metrics import summary

from .persistence import load_detector
from .registry import make_detector


def resolve_detector(detector: str, params: dict):
    """A saved detector folder, or a registry name built with `params`."""
    if Path(detector).is_dir():
        det = load_detector(detector)
        for k, v in params.items():  # runtime settings (cache, budget) may be overridden
            if k in ("cache_dir", "token_budget") and hasattr(det, k):
                setattr(det, k, v)
        return det
    return make_detector(detector, **params)


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


def score_files(*, detector: str, files: Sequence[str], out: str | Path, params: dict | None = None,
                target_fpr: float = 0.01, progress: bool = True) -> str:
    """Score every text of `files`; returns a one-line summary (with AUROC when labelled)."""
    det = resolve_detector(detector, params or {})
    records = read_corpora(files)
    if not records:
        raise OvidError(f"no texts in {', '.join(map(str, files))}")
    texts, ids = [r.text for r in records], [f"{r.source}:{r.id}" for r in records]
    try:
        scores = det.score(texts, ids=ids, progress=progress)
    except TypeError:  # detectors without id/progress support
        scores = det.score(texts)
    rows = [{"id": r.id, "source": r.source, "score": float(s)} | ({"label": r.label} if r.label is not None else {})
            for r, s in zip(records, scores)]
    write_scores(rows, Path(out))
    labelled = [(r.label, s) for r, s in zip(records, scores) if r.label is not None]
    line = f"{out}: {len(rows)} texts scored with {det.name}"
    if labelled:
        labels, sc = map(np.asarray, zip(*labelled))
        m = summary(labels, sc, target_fpr)
        if "auroc" in m:
            line += f"; AUROC {m['auroc']:.4f}, TPR at {target_fpr:g} FPR {m[f'tpr_at_{target_fpr:g}_fpr']:.4f}"
    return line
