"""Word n-gram hashing for the memorization study, vectorised in numpy.

Text is normalised as in Appendix 8.2 of the GPT-2 paper: lower-case, alphanumeric words joined by
single spaces. Each word gets a stable 64-bit hash (its first 32 bytes read as four uint64 lanes,
mixed; no Python `hash`, which is salted per process), and each n-gram a 64-bit hash combining
its words' hashes by position. The same text gives the same hashes in every process and on every
machine, so filters built in separate processes can be merged.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

N = 8  # the paper's n-gram length
_WORD = re.compile(r"[a-z0-9]+")
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def words(text: str) -> list[str]:
    """Normalised words of a text (lower-case alphanumeric runs)."""
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


def word_hashes(ws: Sequence[str]) -> np.ndarray:
    """Stable uint64 per word (words longer than 32 bytes are hashed on their first 32)."""
    if not ws:
        return np.zeros(0, dtype=np.uint64)
    lanes = np.array(ws, dtype="S32").view(np.uint64).reshape(len(ws), 4)
    h = mix64(lanes[:, 0] ^ _GOLDEN)
    for j in range(1, 4):
        h = mix64(h ^ lanes[:, j])
    return h


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
    return ngram_hashes_from_word_hashes(word_hashes(words(text)), n)


def batch_ngram_hashes(texts: Iterable[str], n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of all n-grams of many texts in one vectorised pass.

    Returns (hashes, owner): owner[i] is the index of the text n-gram i comes from. N-grams that
    would cross from one text into the next are dropped."""
    all_words: list[str] = []
    lengths = []
    for t in texts:
        ws = words(t)
        all_words.extend(ws)
        lengths.append(len(ws))
    lengths_a = np.asarray(lengths, dtype=np.int64)
    h = ngram_hashes_from_word_hashes(word_hashes(all_words), n)
    starts = np.concatenate([[0], np.cumsum(lengths_a)[:-1]])
    owner_of_word = np.repeat(np.arange(len(lengths_a)), lengths_a)
    if len(h) == 0:
        return h, np.zeros(0, dtype=np.int64)
    owner = owner_of_word[:len(h)]
    keep = np.arange(len(h)) + n <= (starts + lengths_a)[owner]  # the n-gram ends inside its text
    return h[keep], owner[keep]
