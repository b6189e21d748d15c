"""Read a study's result files (the contract in reports/schema.py) and check their shape.

Nothing here computes a metric: files are read, columns checked, and text kept as text.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ovid.errors import OvidError

from ..schema import GLTR_EXAMPLES, OPTIONAL_COLUMNS, STUDY_JSON, TABLES

# Columns that hold names or free text; they are read verbatim (a span may read "NA" or "None").
# Every other contract column is numeric.
TEXT_COLUMNS = frozenset({"detector", "corpus", "model", "decoding", "train_corpus", "test_corpus",
                          "group", "id", "span_text", "best_detector", "domain", "attack", "level", "defence", "scheme",
                          "quality_model", "kind"})
NUMERIC_NA = ["", "nan", "NaN", "-nan", "NA", "N/A", "null", "None", "<NA>"]
GLTR_KEYS = ("title", "label", "source", "tokens")
N_BUCKETS = 4  # GLTR buckets: top-10, top-100, top-1000, beyond


class ReportDataError(OvidError, ValueError):
    """A study file that is present but does not match the contract; the message names the file
    and what is missing or wrong."""


@dataclass(frozen=True)
class GltrExample:
    """One text coloured token by token: `tokens` are (text, bucket 0-3) pairs."""
    title: str
    label: str
    source: str
    tokens: list[tuple[str, int]]


@dataclass
class StudyData:
    """Everything a report shows. A table or file the study did not write is None."""
    study_dir: Path
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    gltr: list[GltrExample] | None = None
    study: dict[str, Any] | None = None

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


def read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """One contract table; raises ReportDataError naming the file and each missing column."""
    try:
        header = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError:
        raise ReportDataError(f"{path}: empty file (expected a header with {', '.join(columns)})") from None
    optional = OPTIONAL_COLUMNS.get(path.name, frozenset())
    absent = [c for c in columns if c in optional and c not in header]
    columns = [c for c in columns if c not in absent]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ReportDataError(f"{path}: missing column(s) {', '.join(missing)} "
                              f"(expected {', '.join(columns)})")
    text = [c for c in columns if c in TEXT_COLUMNS]
    numeric = [c for c in columns if c not in TEXT_COLUMNS]
    df = pd.read_csv(path, usecols=columns, dtype={c: str for c in text},
                     keep_default_na=False, na_values={c: NUMERIC_NA for c in numeric})
    for c in numeric:
        try:
            df[c] = pd.to_numeric(df[c])
        except (ValueError, TypeError) as e:
            raise ReportDataError(f"{path}: column {c} is not numeric ({e})") from None
    for c in absent:
        df[c] = float("nan")
    return df[columns + absent]


def read_gltr_examples(path: Path) -> list[GltrExample]:
    """The GLTR colouring examples; raises ReportDataError on a missing key or a bad bucket."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ReportDataError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(raw, list):
        raise ReportDataError(f"{path}: expected a list of examples")
    examples = []
    for i, ex in enumerate(raw):
        missing = [k for k in GLTR_KEYS if not isinstance(ex, dict) or k not in ex]
        if missing:
            raise ReportDataError(f"{path}: example {i} is missing key(s) {', '.join(missing)}")
        tokens = []
        for tok in ex["tokens"]:
            ok = isinstance(tok, (list, tuple)) and len(tok) == 2 and isinstance(tok[0], str)
            if not ok or tok[1] not in range(N_BUCKETS):
                raise ReportDataError(f"{path}: example {i} has a bad token {tok!r} "
                                      "(want [text, bucket 0-3])")
            tokens.append((tok[0], int(tok[1])))
        examples.append(GltrExample(str(ex["title"]), str(ex["label"]), str(ex["source"]), tokens))
    return examples


def load_study(study_dir: str | Path) -> StudyData:
    """Read every contract file present under `study_dir` (tables/ and study.json)."""
    study_dir = Path(study_dir)
    if not study_dir.is_dir():
        raise FileNotFoundError(f"no study folder at {study_dir}")
    tables_dir = study_dir / "tables"
    data = StudyData(study_dir)
    for name, columns in TABLES.items():
        path = tables_dir / name
        data.tables[name] = read_table(path, columns) if path.is_file() else None
    if (tables_dir / GLTR_EXAMPLES).is_file():
        data.gltr = read_gltr_examples(tables_dir / GLTR_EXAMPLES)
    if (study_dir / STUDY_JSON).is_file():
        try:
            data.study = json.loads((study_dir / STUDY_JSON).read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ReportDataError(f"{study_dir / STUDY_JSON}: not valid JSON ({e})") from None
        if not isinstance(data.study, dict):
            raise ReportDataError(f"{study_dir / STUDY_JSON}: expected a JSON object")
    return data
