"""The memorization-overlap study of the GPT-2 paper (Appendix 8.2), as pure computation.

1. Put every 8-gram of a reference (training) corpus into a Bloom filter (streamed, in batches).
2. For each document, the share of its 8-grams found in the filter. For prompted samples only
   the continuation counts: its first word is dropped when it continues a word the prompt began,
   and n-grams reaching into the prompt are never formed.
3. For the worst cases, the longest run of consecutive filter hits, re-checked exactly against the
   normalised reference text, so a Bloom false positive never reaches a report.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .bloom import BloomFilter
from .ngrams import N, batch_ngram_hashes, byte_batches, ngram_hashes_from_word_hashes, word_hashes, words


def build_filter(texts: Iterable[str], capacity: int, fpr: float = 1e-3, n: int = N,
                 bloom: BloomFilter | None = None) -> BloomFilter:
    """Stream texts into a Bloom filter sized for `capacity` n-grams at false-positive rate
    `fpr` (or into `bloom`). Memory: the filter plus one batch. For corpora bigger than memory,
    in parallel: overlap/bloom_build.py."""
    bloom = bloom or BloomFilter.for_capacity(capacity, fpr)
    for batch in byte_batches(texts):
        h, _ = batch_ngram_hashes(batch, n)
        bloom.add(h)
    return bloom


def continuation_words(prompt: str, continuation: str) -> list[str]:
    """Normalised words of a continuation, without a leading fragment of a word the prompt began."""
    ws = words(continuation)
    if ws and prompt and prompt[-1].isalnum() and continuation[:1].isalnum():
        ws = ws[1:]
    return ws


@dataclass(frozen=True)
class Overlap:
    n_ngrams: int
    hits: np.ndarray  # bool per n-gram, in order

    @property
    def share(self) -> float:
        return float(self.hits.mean()) if self.n_ngrams else float("nan")


def overlap_of_words(ws: Sequence[str], bloom: BloomFilter, n: int = N) -> Overlap:
    h = ngram_hashes_from_word_hashes(word_hashes(list(ws)), n)
    return Overlap(len(h), bloom.contains(h))


def longest_hit_run(hits: np.ndarray) -> tuple[int, int]:
    """(start, length) of the longest run of consecutive True values."""
    best, cur_start = (0, 0), None
    for i, v in enumerate(np.append(hits, False)):
        if v and cur_start is None:
            cur_start = i
        elif not v and cur_start is not None:
            if i - cur_start > best[1]:
                best = (cur_start, i - cur_start)
            cur_start = None
    return best


def exact_ngram_hits(docs: dict, reference_texts: Iterable[str], n: int = N) -> dict:
    """For each doc (key -> normalised words), a bool per n-gram: does it occur in the reference,
    checked by string equality. The reference is streamed once; hashes only pick candidates."""
    grams = {key: [" ".join(ws[i:i + n]) for i in range(len(ws) - n + 1)] for key, ws in docs.items()}
    hashes = {key: ngram_hashes_from_word_hashes(word_hashes(list(ws)), n) for key, ws in docs.items()}
    wanted = np.unique(np.concatenate([h for h in hashes.values()] or [np.zeros(0, np.uint64)]))
    found: set[str] = set()
    for batch in byte_batches(reference_texts):
        h, owner = batch_ngram_hashes(batch, n)
        if not len(wanted):
            break
        for i in np.flatnonzero(np.isin(h, wanted)):
            ws = words(batch[owner[i]])
            first = i - np.searchsorted(owner, owner[i])  # n-gram index within its document
            found.add(" ".join(ws[first:first + n]))
    return {key: np.array([g in found for g in grams[key]], dtype=bool) for key in docs}


def overlap_table(groups: dict[str, list[tuple[str, list[str]]]], bloom: BloomFilter,
                  n: int = N) -> tuple[pd.DataFrame, dict[tuple[str, str], Overlap]]:
    """Per-document overlap for each group of (id, normalised words)."""
    rows, detail = [], {}
    for group, docs in groups.items():
        for doc_id, ws in docs:
            ov = overlap_of_words(ws, bloom, n)
            detail[(group, doc_id)] = ov
            rows.append({"group": group, "id": doc_id, "n_ngrams": ov.n_ngrams, "overlap": ov.share})
    return pd.DataFrame(rows, columns=["group", "id", "n_ngrams", "overlap"]), detail


def overlap_summary(docs: pd.DataFrame) -> pd.DataFrame:
    """Median, mean, share with 0% and share above 50% overlap per group (documents with at
    least one n-gram)."""
    rows = []
    for group, g in docs[docs.n_ngrams > 0].groupby("group", sort=False):
        o = g.overlap.to_numpy()
        rows.append({"group": group, "n_docs": len(o), "median": float(np.median(o)), "mean": float(o.mean()),
                     "share_zero": float(np.mean(o == 0)), "share_above_50": float(np.mean(o > 0.5))})
    return pd.DataFrame(rows, columns=["group", "n_docs", "median", "mean", "share_zero", "share_above_50"])


def worst_spans(docs: pd.DataFrame, texts: dict[tuple[str, str], list[str]],
                reference_texts: Iterable[str], per_group: int = 3, n: int = N) -> pd.DataFrame:
    """Longest exactly verified overlapping span of the `per_group` highest-overlap documents of
    each group (span = consecutive n-grams all found verbatim in the reference)."""
    worst = [(g, r.id, r.overlap) for g, grp in docs[docs.n_ngrams > 0].groupby("group", sort=False)
             for r in grp.sort_values("overlap", ascending=False).head(per_group).itertuples() if r.overlap > 0]
    exact = exact_ngram_hits({(g, i): texts[(g, i)] for g, i, _ in worst}, reference_texts, n)
    rows = []
    for g, i, ov in worst:
        start, length = longest_hit_run(exact[(g, i)])
        if length:
            span = " ".join(texts[(g, i)][start:start + length + n - 1])
            rows.append({"group": g, "id": i, "overlap": ov, "span_words": len(span.split()), "span_text": span})
    return pd.DataFrame(rows, columns=["group", "id", "overlap", "span_words", "span_text"])
