"""Corpora cut into units of work for a job that runs elsewhere (Ray actors, other machines): the
driver only plans, each unit is read where it is processed.

- A JSONL file is cut into byte ranges at line starts; each range knows the number of its first
  line, so record ids and error messages are those of a whole-file read.
- Any other format is cut into stripes: stripe s of S holds records s, s+S, s+2S ... (each
  stripe reads its source whole; convert a large corpus to JSONL to stream it).

`in_source_order` puts the units' outputs back in the order a whole read gives.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from .corpus import Record, read_corpus, read_jsonl
from .textio import DEFAULT_ENCODING

T = TypeVar("T")
_END = object()


@dataclass(frozen=True)
class Unit:
    source: str  # read from here: an absolute path (planned on the driver), hf:NAME or ovid:NAME
    name: str = ""  # the source as the user gave it (what rows say)
    part_of: int = 0  # which of the job's sources (a source may be given twice)
    start: int = 0  # a byte range of a JSONL file (end > 0) ...
    end: int = 0
    first_line: int = 1
    stripe: int = 0  # ... or stripe `stripe` of `stripes` of another source
    stripes: int = 1


def source_bytes(source: str) -> int:
    """Size on disk of a corpus file or folder (0 for hf:/ovid: names)."""
    p = Path(source)
    if p.is_file():
        return p.stat().st_size
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return 0


def jsonl_ranges(path: str, unit_bytes: int, part_of: int = 0, name: str = "") -> list[Unit]:
    """Byte ranges of about `unit_bytes`, each ending at a line end."""
    units, start, line = [], 0, 1
    with open(path, "rb") as f:
        while True:
            f.seek(start)
            block = f.read(unit_bytes)
            if not block:
                return units
            if not block.endswith(b"\n"):
                block += f.readline()
            units.append(Unit(path, name or path, part_of, start, start + len(block), line))
            line += block.count(b"\n")
            start += len(block)


def plan_units(sources: Iterable[str], unit_bytes: int) -> list[Unit]:
    units: list[Unit] = []
    for j, name in enumerate(sources):
        src = name if name.startswith(("hf:", "ovid:")) else os.path.abspath(name)  # workers have other cwds
        if src.endswith(".jsonl") and Path(src).is_file():
            units += jsonl_ranges(src, unit_bytes, j, name)
        else:
            stripes = max(1, -(-source_bytes(src) // unit_bytes))
            units += [Unit(src, name, j, stripe=i, stripes=stripes) for i in range(stripes)]
    return units


def unit_bytes(unit: Unit) -> int:
    """About how much of the corpus a unit holds."""
    return unit.end - unit.start if unit.end else source_bytes(unit.source) // unit.stripes


def read_unit(unit: Unit, encoding: str = DEFAULT_ENCODING) -> Iterator[Record]:
    if unit.end:
        yield from read_jsonl(unit.source, encoding=encoding, start=unit.start, end=unit.end,
                              first_line=unit.first_line)
        return
    for i, rec in enumerate(read_corpus(unit.source, encoding=encoding)):
        if i % unit.stripes == unit.stripe:
            yield rec


def in_source_order(units: list[Unit], outputs: Callable[[int], Iterable[T]]) -> Iterator[T]:
    """The items of outputs(i) for every unit i, in the order of a whole read of the sources:
    byte ranges one after another, a source's stripes interleaved."""
    for _, group in groupby(range(len(units)), key=lambda i: units[i].part_of):
        idx = list(group)
        if units[idx[0]].end:
            for i in idx:
                yield from outputs(i)
            continue
        iters = [iter(outputs(i)) for i in idx]
        while True:  # stripe s holds records s, s+S, ...: the first stripe to run out ends the source
            for it in iters:
                item = next(it, _END)
                if item is _END:
                    break
                yield item
            else:
                continue
            break
