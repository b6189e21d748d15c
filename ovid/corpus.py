"""Corpora: read every text format ovid meets into one record type, and write sample corpora.

The sample format is OpenAI's gpt-2-output-dataset JSONL: one object a line with `id`, `text`,
`length` (tokens) and `ended` (generation stopped on end-of-text), plus a sidecar
`<name>.meta.json` describing how the samples were made.

Readers yield `Record`s with a label where the source says it (0 = human, 1 = machine):
- JSONL: a `label` field wins; else a corpus with a `.meta.json` sidecar (ovid's own samples)
  and the gpt-2-output-dataset's sample files (small-117M... xl-1542M-k40) are machine text,
  its `webtext` files are human, anything else is unlabelled;
- the Fast-DetectGPT JSON `{"original": [...], "sampled": [...]}`: original -> 0, sampled -> 1,
  ids `original/N` and `sampled/N`;
- a folder of .txt files (one text a file, id = file name without .txt);
- a Hugging Face `datasets` dataset: `hf:NAME[:SPLIT]`, a folder saved with `save_to_disk`, or a
  local .csv/.parquet/.arrow file, with a `text` column (and `label` if present);
- `ovid:human-demo`, the human texts that ship with ovid (see ovid/data/PROVENANCE.md).
A malformed line stops the run with an error naming the file and line; nothing is skipped.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import CorpusError
from .jsonread import load_json
from .textio import DEFAULT_ENCODING, _decode, check_regular_file, iter_lines, read_text

HUMAN = 0
MACHINE = 1
BUILTIN = {"ovid:human-demo": "human_demo.jsonl"}
_GPT2_OUTPUT_SAMPLES = re.compile(r"^(small-117M|medium-345M|large-762M|xl-1542M)(-k40)?\.")


@dataclass(frozen=True)
class Record:
    id: str
    text: str
    label: int | None = None  # 0 human, 1 machine, None unknown
    source: str = ""  # the file or dataset it came from
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. prompt / continuation


def record_domain(rec: Record) -> str:
    """A text's domain: its "domain" (or "dataset") field when the corpus gives one, else its
    file's name up to the first '_' or '.' (xsum_gpt2-xl.raw_data.json -> xsum, news.jsonl -> news)."""
    for key in ("domain", "dataset"):
        given = rec.extra.get(key)
        if isinstance(given, str) and given.strip():
            return given.strip()
    name = Path(rec.source).name if rec.source else ""
    return name.split("_")[0].split(".")[0] or "unknown"


def meta_path(corpus_path: str | os.PathLike) -> Path:
    """`samples/x.jsonl` -> `samples/x.meta.json`."""
    p = Path(corpus_path)
    return p.with_name(p.name.removesuffix(".jsonl").removesuffix(".json") + ".meta.json")


def _check_label(value: Any, where: str) -> int:
    if isinstance(value, bool) or value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.lower() in ("human", "machine", "0", "1"):
        return MACHINE if value.lower() in ("machine", "1") else HUMAN
    raise CorpusError(f"{where}: label must be 0/1 or human/machine, got {value!r}")


MAX_SIDECAR_BYTES = 16 << 20  # ovid's own .meta.json files are a few KB


def read_sidecar(path: str | os.PathLike) -> dict | None:
    """A .meta.json file as a dict, through the one JSON boundary (size, depth, digits, Unicode),
    or None if it is absent, unreadable, or not a JSON object: a file ovid did not write, which
    the caller then treats as such (refuses to resume into, or ignores)."""
    p = Path(path)
    try:
        if not p.is_file() or p.stat().st_size > MAX_SIDECAR_BYTES:
            return None
        obj = load_json(read_text(p), str(p))
    except (OSError, CorpusError):
        return None
    return obj if isinstance(obj, dict) else None


def _default_label(path: Path) -> int | None:
    if meta_path(path).exists():  # ovid's samples are machine text; other sidecars (attacked corpora) say nothing
        fmt = (read_sidecar(meta_path(path)) or {}).get("format")  # unreadable or not ovid's: says nothing
        return MACHINE if fmt in (None, "gpt-2-output-dataset") else None
    if _GPT2_OUTPUT_SAMPLES.match(path.name):
        return MACHINE
    if path.name.startswith("webtext."):
        return HUMAN
    return None


def read_jsonl(path: str | os.PathLike, label: int | None = None, encoding: str = DEFAULT_ENCODING, *,
               start: int = 0, end: int | None = None, first_line: int = 1) -> Iterator[Record]:
    """gpt-2-output-dataset JSONL, or any JSONL with `text` (and optionally `id`, `label`); with
    `start`/`end`, the lines that begin in that byte range (see textio.iter_lines)."""
    path = Path(path)
    default = label if label is not None else _default_label(path)
    for lineno, line in iter_lines(path, encoding, start=start, end=end, first_line=first_line):
        if line.strip():
            yield _jsonl_record(line, str(path), lineno, label, default)


def _jsonl_record(line: str, source: str, lineno: int, label: int | None, default: int | None) -> Record:
    where = f"{source}:{lineno}"
    obj = load_json(line, where)
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise CorpusError(f"{where}: expected an object with a string 'text' field")
    rec_label = _check_label(obj["label"], where) if "label" in obj and label is None else default
    extra = {k: v for k, v in obj.items() if k not in ("id", "text", "label")}
    return Record(str(obj.get("id", lineno - 1)), obj["text"], rec_label, source, extra)


STDIN = "-"  # the corpus name of standard input
STDIN_SOURCE = "<stdin>"


def read_stdin(data: bytes, encoding: str = DEFAULT_ENCODING) -> list[Record]:
    """Texts piped in: JSONL when the first non-blank line is a JSON object (each line's `text`,
    as in a JSONL file), else one text per line; blank lines are skipped."""
    text = _decode(data, STDIN_SOURCE, encoding)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if first.lstrip().startswith("{"):
        return [_jsonl_record(line, STDIN_SOURCE, n, None, None) for n, line in enumerate(lines, 1) if line.strip()]
    return [Record(str(n - 1), line, None, STDIN_SOURCE) for n, line in enumerate(lines, 1) if line.strip()]


def read_fastdetectgpt(path: str | os.PathLike, encoding: str = DEFAULT_ENCODING) -> Iterator[Record]:
    """The Fast-DetectGPT data JSON: paired human `original` and machine `sampled` texts."""
    path = Path(path)
    obj = load_json(read_text(path, encoding), str(path), whole_file=True)
    if not isinstance(obj, dict) or not {"original", "sampled"} <= obj.keys():
        raise CorpusError(f"{path}: expected a JSON object with 'original' and 'sampled' lists")
    for key in ("original", "sampled"):
        if not isinstance(obj[key], list):  # a string would be read as one text per character
            raise CorpusError(f"{path}: {key} must be a list of texts, got {type(obj[key]).__name__}")
    for key, lab in (("original", HUMAN), ("sampled", MACHINE)):
        for i, text in enumerate(obj[key]):
            if not isinstance(text, str):
                raise CorpusError(f"{path}: {key}[{i}] is not a string")
            yield Record(f"{key}/{i}", text, lab, str(path), {"pair": i})


def read_txt_dir(path: str | os.PathLike, label: int | None = None,
                 encoding: str = DEFAULT_ENCODING) -> Iterator[Record]:
    """A folder of .txt files, one text each, in name order."""
    path = Path(path)
    files = sorted(path.glob("*.txt"))
    if not files:
        raise CorpusError(f"{path}: folder has no .txt files")
    for p in files:
        yield Record(p.stem, read_text(p, encoding), label, str(path))


def _table_records(source: str, columns: list[str], rows: Iterable[dict], label: int | None,
                   text_column: str = "text") -> Iterator[Record]:
    """Records from the rows of a table with a text column (and optionally id and label)."""
    if text_column not in columns:
        raise CorpusError(f"{source}: no {text_column!r} column (columns: {', '.join(map(str, columns))})")
    has_label = label is None and "label" in columns
    has_id = "id" in columns
    for i, row in enumerate(rows):
        where = f"{source}: row {i + 1}"
        if not isinstance(row[text_column], str):
            raise CorpusError(f"{where}: {text_column!r} is not a string")
        lab = _check_label(row["label"], where) if has_label else label
        yield Record(str(row["id"]) if has_id else str(i), row[text_column], lab, source)


def read_table_file(path: str | os.PathLike, label: int | None = None,
                    encoding: str = DEFAULT_ENCODING) -> Iterator[Record]:
    """A .csv (decoded strictly), .parquet or .arrow file with a `text` column, read directly:
    no dataset cache is written."""
    import pyarrow as pa

    path = Path(path)
    try:
        if path.suffix == ".csv":
            import io

            import pandas as pd

            df = pd.read_csv(io.StringIO(read_text(path, encoding)), dtype=object, keep_default_na=False)
            yield from _table_records(str(path), list(df.columns), df.to_dict("records"), label)
            return
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            with pa.memory_map(str(path)) as src:
                try:
                    table = pa.ipc.open_file(src).read_all()
                except pa.ArrowInvalid:  # datasets writes the streaming format
                    src.seek(0)
                    table = pa.ipc.open_stream(src).read_all()
    except (pa.ArrowException, ValueError) as e:
        raise CorpusError(f"{path}: cannot read as {path.suffix[1:]} ({' '.join(str(e).split())[:200]})") from None
    yield from _table_records(str(path), table.column_names, table.to_pylist(), label)


def read_hf(source: str, split: str = "train", text_column: str = "text",
            label: int | None = None) -> Iterator[Record]:
    """A Hugging Face dataset: `hf:NAME[:SPLIT]` or a save_to_disk folder."""
    import datasets

    if source.startswith("hf:"):
        name, _, split_given = source[3:].partition(":")
        ds = datasets.load_dataset(name, split=split_given or split)
    else:
        ds = datasets.load_from_disk(source)
        if isinstance(ds, datasets.DatasetDict):
            ds = ds[split]
    yield from _table_records(source, ds.column_names, ds, label, text_column)


def builtin_path(name: str) -> Path:
    """Path of a corpus that ships inside ovid (`ovid:human-demo`)."""
    return Path(str(resources.files("ovid") / "data" / BUILTIN[name]))


def check_sources(sources: Iterable[str | os.PathLike]) -> None:
    """Every corpus is there: a file or folder that exists, a built-in ovid: name, or an hf: name
    (checked when read). Made before any heavy work."""
    for src in map(str, sources):
        if src.startswith("ovid:") and src not in BUILTIN:
            raise CorpusError(f"{src}: no such built-in corpus (there is {', '.join(BUILTIN)})")
        if src.startswith("hf:") and not src[3:].partition(":")[0].strip("/ "):
            raise CorpusError(f"{src}: name a Hugging Face dataset (hf:NAME or hf:NAME:SPLIT)")
        if not src.startswith(("ovid:", "hf:")):
            check_regular_file(src)


def read_corpus(source: str | os.PathLike, label: int | None = None,
                encoding: str = DEFAULT_ENCODING) -> Iterator[Record]:
    """Any supported corpus -> Records. `label` overrides what the source says; text files are
    decoded strictly with `encoding`."""
    s = str(source)
    if s in BUILTIN:
        yield from read_jsonl(builtin_path(s), label=HUMAN if label is None else label)
        return
    if s.startswith("hf:"):
        yield from read_hf(s, label=label)
        return
    path = Path(s)
    check_regular_file(path)
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            yield from read_hf(s, label=label)
        else:
            yield from read_txt_dir(path, label=label, encoding=encoding)
    elif path.suffix == ".jsonl":
        yield from read_jsonl(path, label=label, encoding=encoding)
    elif path.suffix == ".json":
        for rec in read_fastdetectgpt(path, encoding):
            yield rec if label is None else Record(rec.id, rec.text, label, rec.source, rec.extra)
    elif path.suffix in (".csv", ".parquet", ".arrow"):
        yield from read_table_file(path, label=label, encoding=encoding)
    elif path.suffix == ".txt":
        yield Record(path.stem, read_text(path, encoding), label, str(path))
    else:
        raise CorpusError(f"{path}: unknown corpus format (expected .jsonl, .json, .txt, "
                          f".csv, .parquet, .arrow, a folder, hf:NAME or ovid:human-demo)")


def read_corpora(sources: Iterable[str | os.PathLike], label: int | None = None,
                 encoding: str = DEFAULT_ENCODING) -> list[Record]:
    """Read several corpora into one list (ids stay unique through `Record.source`)."""
    return [rec for s in sources for rec in read_corpus(s, label=label, encoding=encoding)]


def repair_jsonl(path: str | os.PathLike) -> int:
    """Drop a partial last line left by a killed writer; return the number of complete lines.

    Writers append whole lines and flush per batch, so only the tail can be torn."""
    path = Path(path)
    if not path.exists():
        return 0
    with open(path, "rb+") as f:
        data = f.read()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            f.truncate(keep)
    return data[:keep].count(b"\n")


def append_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    """Append rows as whole JSON lines in one write, then flush and fsync (resumable output)."""
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    with open(path, "a", encoding="utf-8") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
