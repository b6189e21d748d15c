"""Word n-gram hashing for the memorization study, vectorised in numpy over raw bytes.

Text is normalised as in Appendix 8.2 of the GPT-2 paper: lower-case, alphanumeric words joined by
single spaces (`words`). Hashing never builds those words as Python strings: a batch of texts is
lower-cased, encoded to UTF-8 and scanned as one numpy byte array (ASCII a-z0-9 runs are words,
every other byte separates), so the per-word cost is a handful of vector operations.

- word hash: a polynomial hash of the word's bytes, sum b_t Q^(t - start) mod 2^64, read off a
  prefix sum of b_t Q^t (Q is odd, hence invertible mod 2^64, so the start offset divides out),
  then scrambled with splitmix64 together with the word's length;
- n-gram hash: the n word hashes combined by position, scrambled again.
No Python `hash` (salted per process): the same text gives the same hashes in every process and
on every machine, so filters built in separate processes merge. `words()` and these hashes agree:
hashing " ".join(words(text)) gives the hashes of `text`.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, Iterator, Sequence

import numpy as np

N = 8  # the paper's n-gram length
# Text per hashing batch: measured 7.5M 8-grams/s at 64 KiB, 4.7M at 1 MiB, 1.4M at 4 MiB (the
# byte-level intermediates must stay in cache).
BATCH_BYTES = 1 << 16
_WORD = re.compile(r"[a-z0-9]+")
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_Q = 0xC2B2AE3D27D4EB4F  # odd: invertible mod 2^64
_Q_INV = pow(_Q, -1, 1 << 64)
_ALNUM = np.zeros(256, dtype=bool)
_ALNUM[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)] = True


def words(text: str) -> list[str]:
    """Normalised words of a text (lower-case ASCII alphanumeric runs)."""
    return _WORD.findall(text.lower())


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective, well-spread scramble of uint64 values."""
    x = x.copy()
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


@functools.lru_cache(maxsize=4)
def _powers(base: int, n: int) -> np.ndarray:
    """base^0 .. base^(n-1) mod 2^64 (n rounded up to a power of two, so few tables are made)."""
    with np.errstate(over="ignore"):
        return np.cumprod(np.r_[np.uint64(1), np.full(n - 1, base, dtype=np.uint64)], dtype=np.uint64)


def _table(base: int, n: int) -> np.ndarray:
    return _powers(base, 1 << max(16, (n - 1).bit_length()))


def word_spans(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) byte offsets of the words of a lower-cased UTF-8 byte array."""
    edges = np.diff(_ALNUM[buf].view(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def hash_spans(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Stable uint64 hash of each word buf[starts[i]:ends[i]]."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        prefix = np.cumsum(buf.astype(np.uint64) * _table(_Q, len(buf))[:len(buf)], dtype=np.uint64)
        before = np.where(starts > 0, prefix[starts - 1], np.uint64(0))
        poly = (prefix[ends - 1] - before) * _table(_Q_INV, len(buf))[starts]
        return mix64(poly ^ ((ends - starts).astype(np.uint64) * _GOLDEN))


def _encode(text: str) -> np.ndarray:
    return np.frombuffer(text.lower().encode("utf-8", "replace"), dtype=np.uint8)


def word_hashes(ws: Sequence[str]) -> np.ndarray:
    """Hash of each normalised word (as `words` returns them)."""
    buf = _encode(" ".join(ws))
    return hash_spans(buf, *word_spans(buf))


def ngram_hashes_from_word_hashes(wh: np.ndarray, n: int = N) -> np.ndarray:
    """uint64 hash of each run of n consecutive words: (W,) -> (W - n + 1,)."""
    if len(wh) < n:
        return np.zeros(0, dtype=np.uint64)
    count = len(wh) - n + 1
    acc = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            acc = acc * _GOLDEN + wh[j:j + count]
    return mix64(acc)


def ngram_hashes(text: str, n: int = N) -> np.ndarray:
    return batch_ngram_hashes([text], n)[0]


def _batch_words(texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Many texts as one byte array: (bytes, word starts, word ends, text index of each word)."""
    encoded = [t.lower().encode("utf-8", "replace") for t in texts]
    buf = np.frombuffer(b"\n".join(encoded), dtype=np.uint8)  # "\n" separates like any other non-word byte
    starts, ends = word_spans(buf)
    text_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]])
    return buf, starts, ends, np.searchsorted(text_starts, starts, side="right") - 1


def batch_ngram_hashes(texts: Iterable[str], n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of all n-grams of many texts in one vectorised pass.

    Returns (hashes, owner): owner[i] is the index of the text n-gram i comes from. N-grams that
    would cross from one text into the next are dropped."""
    buf, starts, ends, owner_of_word = _batch_words(texts)
    h = ngram_hashes_from_word_hashes(hash_spans(buf, starts, ends), n)
    if len(h) == 0:
        return h, np.zeros(0, dtype=np.int64)
    keep = owner_of_word[:len(h)] == owner_of_word[n - 1:]  # the n-gram ends inside its text
    return h[keep], owner_of_word[:len(h)][keep]


def count_ngrams(texts: Iterable[str], n: int = N) -> int:
    """Number of n-grams in the texts (none crossing from one text into the next)."""
    total = 0
    for batch in byte_batches(texts):
        per_text = np.bincount(_batch_words(batch)[3], minlength=len(batch))
        total += int(np.maximum(per_text - n + 1, 0).sum())
    return total


def byte_batches(texts: Iterable[str], batch_bytes: int = BATCH_BYTES) -> Iterator[list[str]]:
    """Consecutive texts grouped into batches of about `batch_bytes` characters."""
    batch, size = [], 0
    for t in texts:
        batch.append(t)
        size += len(t)
        if size >= batch_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
