"""Text normalisation, the defence against character-level evasion: the same function runs
before every detector's training, calibration and scoring.

Steps, in order (each counted, so a caller can tell how much a text was changed):
1. format characters (Unicode category Cf: zero-width spaces and joiners, word joiner, BOM,
   soft hyphen, bidi controls) removed, not replaced by spaces; combining marks past MAX_MARKS
   on one base character ("Zalgo" text) removed, so a text's cost grows with its letters, not
   with marks stacked on one of them;
2. NFKC: compatibility forms folded (full-width and mathematical letters, ligatures, no-break
   and other spaces);
3. confusables: letters and digits that Unicode TR39's confusables data (confusables.txt, as
   packaged by confusable_homoglyphs) lists as look-alikes of an ASCII letter or digit become
   that character, in words that mix Latin letters with look-alikes, and, in a text that is
   mostly Latin script, in words made only of look-alikes; a real Greek or Russian word has
   letters with no Latin twin, so it is left as it is;
4. whitespace: runs of spaces and tabs become one space, spaces around line breaks are dropped,
   three or more line breaks become a paragraph break;
5. case, digits and line breaks (the `fold` steps): every letter lower-cased, every digit
   written as 0 and every line break a space, so a flipped capital, a redrawn number or an
   inserted paragraph break changes nothing the detector sees.

Steps 1-4 are repairs: a clean text comes out the same, so the share of characters they change
(`changed`) is evidence of tampering. Step 5 is a canonical form every text goes through, and is
not counted.

`normalize_mapped` runs the same steps and also says where each normalised character came from in
the text as given (an OffsetMap), so what the detector read can be shown over what was typed.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Sequence

RECIPES = ("none", "repair", "fold")  # fold = repair + case and digit folding
DEFAULT_RECIPE = "fold"
# a share of repaired characters that clean text does not reach (0 on the shared human texts;
# a pasted quote with curly look-alikes or a stray no-break space stays well under it)
TAMPERING_FLAG = 0.01
_SPACES = re.compile(r"[ \t\f\v]+")
_AROUND_NEWLINE = re.compile(r" ?\n ?")
_BREAKS = re.compile(r"\n{3,}")
_DIGIT = re.compile(r"\d")
_NEWLINES = re.compile(r"\n+")
# step 4 before its strip, and step 5 after its lower-casing: (pattern, replacement), in order
_WHITESPACE = ((re.compile("\r\n"), "\n"), (re.compile("\r"), "\n"), (_SPACES, " "), (_AROUND_NEWLINE, "\n"),
               (_BREAKS, "\n\n"))
_FOLD = ((_NEWLINES, " "), (_DIGIT, "0"))
# combining marks kept per base character: Vietnamese stacks two, Indic scripts three; Unicode's
# stream-safe format (UAX #15) allows 30, which no writing needs
MAX_MARKS = 4


@dataclass(frozen=True)
class Normalized:
    text: str
    changed: int  # characters the repairs removed or replaced, typography (ellipses, ligatures) not counted
    length: int  # of the original text

    @property
    def change_ratio(self) -> float:
        """Share of the original characters that the repairs changed: ~0 for clean text."""
        return self.changed / self.length if self.length else 0.0


@lru_cache(maxsize=1)
def confusable_table() -> dict[int, str]:
    """{code point: ASCII letter or digit} for every non-ASCII character TR39 says looks like it."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table: dict[int, str] = {}
    for target in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
        for entry in data.get(target, []):
            c = entry["c"]
            if len(c) == 1 and not c.isascii() and c.isalnum():
                # TR39's prototype of every capital-I look-alike (Greek Iota, Cyrillic I) is "l":
                # right for comparing strings, wrong for restoring the word that was meant
                capital = "CAPITAL" in unicodedata.name(c, "") and "SMALL CAPITAL" not in unicodedata.name(c, "")
                table.setdefault(ord(c), "I" if target == "l" and capital else target)
    return table


def _is_latin_letter(c: str) -> bool:
    return c.isascii() and c.isalpha()


def _map_confusables(text: str) -> tuple[str, int]:
    table = confusable_table()
    if not any(ord(c) in table for c in text):
        return text, 0
    letters = [c for c in text if c.isalpha()]
    mostly_latin = sum(_is_latin_letter(c) or ord(c) in table for c in letters) >= 0.5 * len(letters)

    def fix(m: re.Match) -> str:
        word = m.group()
        mixed = any(map(_is_latin_letter, word))
        disguised = mostly_latin and all(_is_latin_letter(c) or ord(c) in table for c in word if c.isalpha())
        return word.translate(table) if mixed or disguised else word

    out = re.sub(r"\w+", fix, text)
    return out, sum(a != b for a, b in zip(text, out))


def _marks_kept(text: str) -> list[bool]:
    """Per character, False for a combining mark past MAX_MARKS in a row (one base character's stack)."""
    keep, run = [], 0
    for c in text:
        run = run + 1 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me") else 0
        keep.append(run <= MAX_MARKS)
    return keep


def _cap_marks(text: str) -> str:
    return "".join(c for c, k in zip(text, _marks_kept(text)) if k)


def _canonical_whitespace(text: str) -> str:
    for pattern, repl in _WHITESPACE:
        text = pattern.sub(repl, text)
    return text.strip()


def normalize(text: str, recipe: str = DEFAULT_RECIPE) -> Normalized:
    """`text` through the recipe's steps (see the module docstring)."""
    if recipe not in RECIPES:
        raise ValueError(f"normalization must be one of {', '.join(RECIPES)}, got {recipe!r}")
    if recipe == "none":
        return Normalized(text, 0, len(text))
    kept = "".join(c for c in text if unicodedata.category(c) != "Cf")
    if not kept.isascii():
        kept = _cap_marks(kept)
    changed = len(text) - len(kept)
    folded = kept if unicodedata.is_normalized("NFKC", kept) else unicodedata.normalize("NFKC", kept)
    if folded is not kept:  # counted: letters and digits in disguise (full-width, mathematical), not typography
        changed += sum(1 for c in kept if c.isalnum() and unicodedata.normalize("NFKC", c) != c)
    mapped, n_mapped = _map_confusables(folded)
    changed += n_mapped
    spaced = _canonical_whitespace(mapped)
    changed += len(mapped) - len(spaced)
    if recipe == "fold":
        spaced = spaced.lower()
        for pattern, repl in _FOLD:
            spaced = pattern.sub(repl, spaced)
    return Normalized(spaced, changed, len(text))


def normalize_texts(texts: list[str], recipe: str = DEFAULT_RECIPE) -> list[str]:
    return [normalize(t, recipe).text for t in texts]


# -- where each normalised character came from ----------------------------------------------------
@dataclass(frozen=True)
class OffsetMap:
    """Where each character of a normalised text came from: character i was made from
    original[starts[i]:ends[i]] (a folded letter from one character, a CRLF's space from both, a
    ligature's two letters from the one). The ranges never go backwards; what the repairs removed
    (zero-width characters, stripped whitespace) lies between them."""
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    length: int  # of the original text

    def original_pieces(self, original: str, cuts: Sequence[int], end: int | None = None) -> list[str]:
        """`original` cut where the normalised text is cut at `cuts` (normalised positions in
        order, e.g. each token's start): piece k runs from where cut k came from to where cut k+1
        came from, the first from 0 and the last to the original's end (with `end`, to the end of
        where normalised character end - 1 came from). Without `end` the pieces join back into
        `original`: a token shown over them shows the text as typed."""
        if not cuts:
            return []
        bounds = [0, *(self.starts[c] for c in cuts[1:]), self.length if end is None else self.ends[end - 1]]
        return [original[a:b] for a, b in zip(bounds, bounds[1:])]


_Traced = tuple[str, list[int], list[int]]  # a text and, per character, the original range it came from


def _sub_mapped(pattern: re.Pattern, repl: str, spans: _Traced) -> _Traced:
    """pattern.sub(repl, text) where each replacement's characters come from what it replaced."""
    text, starts, ends = spans
    out, s2, e2, at = [], [], [], 0
    for m in pattern.finditer(text):
        a, b = m.span()
        out += [text[at:a], repl]
        s2 += starts[at:a] + [starts[a]] * len(repl)
        e2 += ends[at:a] + [ends[b - 1]] * len(repl)
        at = b
    out.append(text[at:])
    return "".join(out), s2 + starts[at:], e2 + ends[at:]


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _nfkc_mapped(spans: _Traced) -> _Traced:
    """NFKC, one cluster at a time: a character with the combining marks after it, joined to the
    cluster before when the two normalise differently together than apart (Hangul jamo composing
    a syllable, marks reordered across a starter). Each cluster's output comes from all of it."""
    text, starts, ends = spans
    if unicodedata.is_normalized("NFKC", text):
        return spans
    clusters: list[list[int]] = []
    for i, c in enumerate(text):
        if clusters and unicodedata.combining(c):
            clusters[-1][1] = i + 1
        else:
            clusters.append([i, i + 1])
    merged: list[list[int]] = []
    for a, b in clusters:
        if merged:
            before, this = text[merged[-1][0]:a], text[a:b]
            if not (before.isascii() and this.isascii()) and _nfkc(before + this) != _nfkc(before) + _nfkc(this):
                merged[-1][1] = b
                continue
        merged.append([a, b])
    if "".join(_nfkc(text[a:b]) for a, b in merged) != _nfkc(text):  # a longer reach than one neighbour
        merged = [[0, len(text)]]
    out, s2, e2 = [], [], []
    for a, b in merged:
        piece = _nfkc(text[a:b])
        out.append(piece)
        s2 += [starts[a]] * len(piece)
        e2 += [ends[b - 1]] * len(piece)
    return "".join(out), s2, e2


def normalize_mapped(text: str, recipe: str = DEFAULT_RECIPE) -> tuple[Normalized, OffsetMap]:
    """normalize(text, recipe) and where each of its characters came from in `text` (slower than
    normalize: for showing a text as it was typed, not for scoring)."""
    done = normalize(text, recipe)
    if recipe == "none":
        return done, OffsetMap(tuple(range(len(text))), tuple(range(1, len(text) + 1)), len(text))
    at = [i for i, c in enumerate(text) if unicodedata.category(c) != "Cf"]
    kept = "".join(text[i] for i in at)
    if not kept.isascii():
        at = [i for i, k in zip(at, _marks_kept(kept)) if k]
    spans = _nfkc_mapped(("".join(text[i] for i in at), at, [i + 1 for i in at]))
    mapped, _ = _map_confusables(spans[0])  # one character for one: positions stay
    spans = (mapped, spans[1], spans[2])
    for pattern, repl in _WHITESPACE:
        spans = _sub_mapped(pattern, repl, spans)
    s, starts, ends = spans
    lead, keep = len(s) - len(s.lstrip()), len(s.rstrip())
    spans = (s[lead:keep], starts[lead:keep], ends[lead:keep])
    if recipe == "fold":
        s, starts, ends = spans
        if not s.isascii():  # a letter can lower-case to two (U+0130, I with a dot, to i and a dot)
            widths = [len(c.lower()) for c in s]
            starts = [a for a, w in zip(starts, widths) for _ in range(w)]
            ends = [b for b, w in zip(ends, widths) for _ in range(w)]
        spans = (s.lower(), starts, ends)
        for pattern, repl in _FOLD:
            spans = _sub_mapped(pattern, repl, spans)
    s, starts, ends = spans
    if s != done.text or len(starts) != len(s):
        raise RuntimeError("the offset map's normalisation differs from normalize(): a step changed in one only")
    return done, OffsetMap(tuple(starts), tuple(ends), len(text))
