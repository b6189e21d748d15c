"""The report as a list of plain blocks, so the HTML page and the Markdown file show the same
content: `sections` builds the blocks once, `html_page` and `markdown_page` only render them.

Every string in a block is plain text (data included); the renderers escape it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .data import GltrExample


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2
    anchor: str = ""  # id to link to from the contents list; empty: not listed


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Note:
    """A one-line remark, e.g. a part of the study that was not run."""
    text: str


@dataclass(frozen=True)
class Table:
    """A table shown in the report; `csv` is the relative link to its source file (if any),
    whose data rows are exactly `rows` (so a reader can count them against the file)."""
    key: str  # stable id, e.g. "detection"
    header: list[str]
    rows: list[list[str]]
    caption: str = ""
    csv: str = ""
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned column indexes
    wrap: frozenset[int] = field(default_factory=frozenset)  # long-text columns that may wrap


@dataclass(frozen=True)
class Figure:
    """A figure written as a PNG file: the Markdown links the file, the HTML page embeds its bytes."""
    src: str  # relative path of the PNG, e.g. "figures/roc.png"
    alt: str
    caption: str = ""
    csv: str = ""  # relative link to the data behind the figure


@dataclass(frozen=True)
class TokenColouring:
    """GLTR examples: each token coloured by the scoring model's rank bucket, its bucket also in
    words, and per example the same tokens as a table, for a reader who cannot see the colours."""
    examples: list[GltrExample]
    shares: Table  # per example, the share of tokens in each bucket
    tokens: list[Table] = field(default_factory=list)  # per example: each token and its bucket


@dataclass(frozen=True)
class Details:
    """A long, rarely read text (e.g. the study configuration), folded away in the page."""
    summary: str
    text: str


Block = Union[Heading, Paragraph, Note, Table, Figure, TokenColouring, Details]

GLTR_BUCKETS = [  # (label, the ranks in words, colour) per bucket, as in GLTR (Gehrmann et al. 2019)
    ("top 10", "rank 1-10", "#9be59b"),
    ("top 100", "rank 11-100", "#f5e77a"),
    ("top 1000", "rank 101-1000", "#f5a3a3"),
    ("beyond", "rank above 1000", "#c9a3f5"),
]
