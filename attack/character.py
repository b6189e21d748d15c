"""RAID's character-level attacks (Dugan et al. 2024, liamdugan/raid generation/adversarial/),
as pure functions of (text, rate, rng). Rates mean what they mean in RAID; its defaults are in
attack/registry.py."""
from __future__ import annotations

import random
import re

from .edits import Attacked, apply_replacements
from .units import sentence_spans, word_spans

# RAID's table: 22 Latin letters to Cyrillic or Greek look-alikes (a choice where two exist)
HOMOGLYPHS = {
    "a": "\u0430", "A": "\u0410\u0391", "B": "\u0412\u0392", "e": "\u0435", "E": "\u0415\u0395",
    "c": "\u0441", "p": "\u0440", "K": "\u041a\u039a", "O": "\u041e\u039f", "P": "\u0420\u03a1",
    "M": "\u041c\u039c", "H": "\u041d\u0397", "T": "\u0422\u03a4", "X": "\u0425\u03a7", "C": "\u0421",
    "y": "\u0443", "o": "\u043e", "x": "\u0445", "I": "\u0406\u0399", "i": "\u0456", "N": "\u039d",
    "Z": "\u0396",
}
ZERO_WIDTH_SPACE = "\u200b"
NUMBER = re.compile(r"\d+\.?\d*")
ARTICLES = (" a ", " an ", " the ")


def sample_count(n: int, rate: float) -> int:
    """How many of n candidates an attack at `rate` edits (RAID floors)."""
    return min(n, int(n * rate))


def homoglyph(text: str, rate: float, rng: random.Random) -> Attacked:
    """Each mappable letter becomes a look-alike with probability `rate` (RAID: 1.0, all)."""
    reps = [(i, i + 1, rng.choice(HOMOGLYPHS[c])) for i, c in enumerate(text)
            if c in HOMOGLYPHS and (rate >= 1 or rng.random() < rate)]
    return apply_replacements(text, reps)


def zero_width_space(text: str, rate: float, rng: random.Random) -> Attacked:
    """A U+200B after `rate` of the characters (RAID: 1.0, after every one)."""
    chosen = set(rng.sample(range(len(text)), sample_count(len(text), rate)))
    return apply_replacements(text, [(i + 1, i + 1, ZERO_WIDTH_SPACE) for i in sorted(chosen)])


def whitespace(text: str, rate: float, rng: random.Random) -> Attacked:
    """rate x (space-separated pieces) extra spaces, each after a piece drawn with replacement."""
    pieces = text.split(" ")
    ends, pos = [], 0
    for p in pieces:
        pos += len(p)
        ends.append(pos)
        pos += 1
    picks = sorted(rng.choices(range(len(pieces)), k=int(len(pieces) * rate)))
    return apply_replacements(text, [(ends[i], ends[i], " ") for i in picks])


def upper_lower(text: str, rate: float, rng: random.Random) -> Attacked:
    """The first letter of `rate` of the words flips case."""
    starts = [s for s, _ in word_spans(text) if text[s].isalpha()]
    picks = rng.sample(starts, sample_count(len(starts), rate))
    return apply_replacements(text, [(i, i + 1, text[i].lower() if text[i].isupper() else text[i].upper())
                                     for i in picks])


def insert_paragraphs(text: str, rate: float, rng: random.Random) -> Attacked:
    """A paragraph break before `rate` of the sentences after the first; sentences are re-joined
    with single spaces, as RAID does."""
    sents = [text[a:b] for a, b in sentence_spans(text)]
    if len(sents) < 2:
        return Attacked(text)
    chosen = set(rng.sample(range(1, len(sents)), sample_count(len(sents) - 1, rate)))
    out, edits = "", []
    for i, s in enumerate(sents):
        if i:
            out += " "
        if i in chosen:
            edits.append((len(out), len(out) + 2))
            out += "\n\n"
        out += s
    return Attacked(out, edits)


def number(text: str, rate: float, rng: random.Random) -> Attacked:
    """Every digit of `rate` of the numbers redrawn at random."""
    spans = [m.span() for m in NUMBER.finditer(text)]
    picks = rng.sample(spans, sample_count(len(spans), rate))
    return apply_replacements(text, [(a, b, "".join(rng.choice("0123456789") if c.isdigit() else c
                                                    for c in text[a:b])) for a, b in picks])


def article_deletion(text: str, rate: float, rng: random.Random) -> Attacked:
    """`rate` of the lowercase articles between spaces deleted (with the space before them)."""
    found = []
    for art in ARTICLES:
        i = text.find(art)
        while i != -1:
            found.append((i, i + len(art) - 1))
            i = text.find(art, i + len(art) - 1)
    picks = sorted(rng.sample(found, sample_count(len(found), rate)))
    kept, last = [], -1
    for a, b in picks:  # overlapping matches (" a a ") delete once
        if a >= last:
            kept.append((a, b, ""))
            last = b
    return apply_replacements(text, kept)
