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
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

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


def _cap_marks(text: str) -> str:
    """Drop combining marks past MAX_MARKS in a row (one base character's stack)."""
    out, run = [], 0
    for c in text:
        run = run + 1 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me") else 0
        if run <= MAX_MARKS:
            out.append(c)
    return "".join(out)


def _canonical_whitespace(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = _AROUND_NEWLINE.sub("\n", text)
    return _BREAKS.sub("\n\n", text).strip()


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
        spaced = _DIGIT.sub("0", _NEWLINES.sub(" ", spaced.lower()))
    return Normalized(spaced, changed, len(text))


def normalize_texts(texts: list[str], recipe: str = DEFAULT_RECIPE) -> list[str]:
    return [normalize(t, recipe).text for t in texts]
