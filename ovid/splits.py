"""Train/test splits that never leak a source document.

In paired data (Fast-DetectGPT's, or ovid's prompted samples) every machine text continues the
opening of a human article, and every file of one dataset holds the same articles, truncated a
little differently. A split by text would put an article on one side and its continuation (or
the same article from another file) on the other. So texts are grouped by their *document key*:
the first `KEY_WORDS` words of the text, lower-cased, with punctuation dropped (the same
normalisation as the memorization study). A machine text starts with the ~30 prompt tokens of its
article, i.e. well over KEY_WORDS words, so it shares its article's key. Each key goes to the test
side when a stable hash of it falls under the test fraction, so the same article is held out of
every file and every run, with no shared state between them.
"""
from __future__ import annotations

import hashlib
import re
from typing import Sequence, TypeVar

KEY_WORDS = 8
_WORD = re.compile(r"[a-z0-9]+")
T = TypeVar("T")


def normalise(text: str) -> str:
    """Lower-case alphanumeric words joined by single spaces."""
    return " ".join(_WORD.findall(text.lower()))


def document_key(text: str, words: int = KEY_WORDS) -> str:
    return " ".join(_WORD.findall(text.lower())[:words])


def is_test_document(key: str, test_fraction: float, seed: int | str = 0) -> bool:
    h = int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big")
    return h / 2 ** 64 < test_fraction


def split_by_document(items: Sequence[T], texts: Sequence[str], test_fraction: float = 0.5,
                      seed: int | str = 0) -> tuple[list[T], list[T]]:
    """(train, test) items; all texts sharing a document key land on the same side. Splits with
    different seeds are independent, so nest a split inside another with a seed of its own."""
    train, test = [], []
    for item, text in zip(items, texts):
        (test if is_test_document(document_key(text), test_fraction, seed) else train).append(item)
    return train, test
