"""The offset map from a normalised text back to the text as typed (ovid.normalize.normalize_mapped),
on hostile Unicode: it normalises exactly as normalize() does, its ranges run forward and inside the
text, pieces cut at any normalised positions join back into the original, and each normalised
stretch comes from the characters it should."""
from __future__ import annotations

import random

import pytest

from ovid.normalize import RECIPES, OffsetMap, normalize, normalize_mapped

HOSTILE = [
    "Regina Hungerford, 2019",
    "p\u0430yp\u0430l: \u0441\u043e\u0440\u0443 login",  # Cyrillic look-alikes, mixed and disguised
    "caf\u0065\u0301 na\u0131\u0308ve Z\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308algo",  # marks, past the cap
    "in\u200bvis\u200di\ufeffble soft\u00adhyphen \u202eevil\u202c",  # zero-width, BOM, soft hyphen, bidi
    "one\r\ntwo\rthree\n\n\n\nfour \t five  \n  six",  # CRLF, lone CR, a run of breaks, spaces round a break
    # NFKC: ligature, full-width letters and digits, ohm sign, ellipsis, a fraction, wide and no-break spaces
    "\ufb01ne \uff32\uff45\uff47\uff49\uff4e\uff41 \uff12\uff10\uff11\uff19 \u2126 \u2026 \u00bd \u3000x\u00a0y",
    "\u0130stanbul \u039f\u0394\u039f\u03a3 \u03bf\u03b4\u03bf\u03c3.",  # İ lower-cases to two; Greek left as it is
    "\u1100\u1161\u11a8 \u1100\u1161 \u0b47\u0b3e a\u0f73\u0301b",  # jamo compose; Oriya; Tibetan reorders marks
    "\U0001F469\u200d\U0001F469\u200d\U0001F467 \U0001D400\U0001D401 x\u2028y",  # emoji ZWJ; math bold; line sep
    "  \u200b leading and trailing \u200b\t\r\n ",
    "\u200b\u200b\u200b",
    "",
]
ALPHABET = list("aAzZ09 .,") + ["\t", "\r", "\n", "\r\n", "\u200b", "\u200d", "\ufeff", "\u00ad", "\u0301", "\u0308",
                                "\u0323", "\u0430", "\u0435", "\u043e", "\u0440", "\u039f", "\u0394", "\u03a3",
                                "\ufb01", "\uff21", "\uff11", "\u0130", "\u00df", "\u1100", "\u1161", "\u11a8",
                                "\u0b47", "\u0b3e", "\u0f73", "\u0f71", "\U0001F469", "\u00a0", "\u2028", "\u3000",
                                "\u2026", "\u00bd", "\u2126"]


def fuzz(n: int = 400, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30))) for _ in range(n)]


def check_map(text: str, recipe: str) -> OffsetMap:
    done, where = normalize_mapped(text, recipe)
    assert done == normalize(text, recipe)  # the text, and the counts of what was repaired
    n = len(done.text)
    assert len(where.starts) == len(where.ends) == n and where.length == len(text)
    assert all(0 <= a < b <= len(text) for a, b in zip(where.starts, where.ends))
    assert list(where.starts) == sorted(where.starts) and list(where.ends) == sorted(where.ends)
    assert "".join(where.original_pieces(text, range(n))) == (text if n else "")  # cut anywhere, join back
    return where


@pytest.mark.parametrize("recipe", RECIPES)
def test_the_map_normalises_as_normalize_does_and_joins_back(recipe):
    for text in HOSTILE + fuzz():
        check_map(text, recipe)


def source(text: str, recipe: str, word: str) -> str:
    """The stretch of `text` that `word` of its normalised form came from."""
    done, where = normalize_mapped(text, recipe)
    a = done.text.index(word)
    return text[where.starts[a]:where.ends[a + len(word) - 1]]


def test_each_normalised_stretch_comes_from_what_was_typed():
    text = "Regina Hungerford, 2019"
    assert normalize(text).text == "regina hungerford, 0000"
    assert source(text, "fold", "regina") == "Regina" and source(text, "fold", "0000") == "2019"
    assert source(HOSTILE[1], "fold", "paypal:") == "p\u0430yp\u0430l:"  # homoglyphs repaired, typed ones kept
    assert source(HOSTILE[1], "fold", "copy login") == "\u0441\u043e\u0440\u0443 login"  # a word in disguise
    assert source(HOSTILE[2], "fold", "caf\u00e9") == "cafe\u0301"  # e + combining acute, composed
    # Z composed with its first mark, three more kept, the rest (past MAX_MARKS) removed between ranges
    assert source(HOSTILE[2], "fold", "\u017a") == "Z\u0301\u0302\u0303\u0304"
    assert source(HOSTILE[2], "fold", "algo") == "algo"
    assert source(HOSTILE[3], "fold", "invisible") == "in\u200bvis\u200di\ufeffble"  # zero-width kept inside
    assert source(HOSTILE[4], "fold", "one two") == "one\r\ntwo"  # a CRLF's space comes from both
    assert source(HOSTILE[4], "repair", "four five") == "four \t five"
    assert source(HOSTILE[5], "fold", "fine") == "\ufb01ne"  # a ligature's two letters from the one
    assert source(HOSTILE[5], "fold", "regina 0000") == "\uff32\uff45\uff47\uff49\uff4e\uff41 \uff12\uff10\uff11\uff19"
    assert source(HOSTILE[6], "fold", "i\u0307stanbul") == "\u0130stanbul"  # one letter lower-cased to two
    assert source(HOSTILE[7], "fold", "\uac01") == "\u1100\u1161\u11a8"  # three jamo, one syllable


def test_pieces_at_token_starts_show_the_text_as_typed():
    text = "\u200b Regina\u00a0Hungerford,\r\n2019\u200b "
    done, where = normalize_mapped(text)
    assert done.text == "regina hungerford, 0000"
    starts = [0, 7, 17, 19]  # "regina ", "hungerford", ", ", "0000"
    assert where.original_pieces(text, starts) == ["\u200b Regina\u00a0", "Hungerford", ",\r\n", "2019\u200b "]
    # cut where the detector stopped reading
    assert where.original_pieces(text, starts[:2], end=17) == ["\u200b Regina\u00a0", "Hungerford"]
    assert where.original_pieces(text, []) == []


def test_a_long_hostile_text_maps_in_reasonable_time():
    import time

    text = " ".join(HOSTILE) * 300  # about 100k characters
    began = time.perf_counter()
    check_map(text, "fold")
    assert time.perf_counter() - began < 30  # for a page view: linear, not quadratic
