"""Sentences and words as character spans. Sentences come from pysbd (rule-based, offline,
no model data to download, unlike NLTK's punkt which RAID uses); words are runs of letters,
digits and inner apostrophes or hyphens, RAID's NLTK word tokens without its punctuation ones."""
from __future__ import annotations

import re
from functools import lru_cache

WORD = re.compile(r"\w+(?:['’-]\w+)*")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence, surrounding whitespace excluded."""
    spans = []
    for s in _segmenter().segment(text):
        a, b = s.start, s.end
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
    return spans


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in WORD.finditer(text)]
