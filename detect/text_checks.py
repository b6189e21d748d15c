"""What the service says about a text besides its score: pure functions over the text, its tokens
and the detector's output (truncation, language, warnings, the GLTR view)."""
from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from ovid.normalize import TAMPERING_FLAG

from .features import TokenStats, gltr_buckets

LANGUAGE_MIN_LETTERS = 40  # below this a language guess is noise
LANGUAGE_CONFIDENCE = 0.9  # py3langid's normalised probability; 0 of 2,928 shared English texts
# (nor their first 15 words) were put in another language with this confidence


def cut_to_tokens(text: str, offsets: Sequence[tuple[int, int]], max_tokens: int) -> tuple[str, int, bool]:
    """(the text up to its max_tokens-th token, tokens kept, whether it was cut), from a fast
    tokenizer's character offsets of each token."""
    n = len(offsets)
    if n <= max_tokens:
        return text, n, False
    return text[:offsets[max_tokens - 1][1]], max_tokens, True


@functools.lru_cache(maxsize=1)
def _identifier():
    """py3langid's identifier, read from an uncompressed copy of its model kept in ovid's cache:
    the packaged model is xz-compressed (4.6 MB -> 68 MB), and decompressing it took 1.3-2.7 s of
    every `ovid score` start; the copy loads in ~0.05 s. Any failure reads the packaged file."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    try:
        return _identifier_from_cache(MODEL_DIR / MODEL_FILE)
    except Exception:  # noqa: BLE001 - a cache that cannot be written or read: the packaged model
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _identifier_from_cache(packaged):
    import lzma
    import shutil
    from importlib.metadata import version

    from py3langid.langid import LanguageIdentifier
    from py3langid.modelio import _to_array

    from ovid.atomic import atomic_path
    from ovid.models import cache_root

    cached = cache_root() / "langid" / f"model-{version('py3langid')}.npz"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cached) as tmp, lzma.open(packaged) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 20)
    with np.load(cached, allow_pickle=False) as d:
        return LanguageIdentifier(np.asarray(d["ptc"]), np.asarray(d["pc"]), d["classes"].tolist(),
                                  _to_array(d["nextmove"]), d["out_feat"].tolist(),
                                  tk_row=_to_array(d["nextmove_row"]), norm_probs=True)


def guess_language(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, confidence), or (None, 0) for a text with too few letters to tell."""
    if sum(c.isalpha() for c in text) < LANGUAGE_MIN_LETTERS:
        return None, 0.0
    lang, prob = _identifier().classify(text)
    return str(lang), float(prob)


def text_warnings(*, tokens: int | None, short_tokens: int, language: str | None, confidence: float,
                  expected_language: str, tampering: float, truncated: bool, max_tokens: int,
                  repaired: bool = True) -> list[dict]:
    """The reasons to weigh a verdict less, each {"code", "message"}."""
    out = []
    if tokens is not None and tokens < short_tokens:
        out.append({"code": "too-short", "message": f"only {tokens} tokens: too short to judge (under {short_tokens}); "
                    "detectors are unreliable on short texts"})
    if expected_language and language and language != expected_language and confidence >= LANGUAGE_CONFIDENCE:
        out.append({"code": "language", "message": f"the text looks like '{language}', not '{expected_language}', "
                    "the language the detector was made for"})
    if tampering >= TAMPERING_FLAG:
        out.append({"code": "tampering", "message": f"{tampering:.1%} of its characters were invisible or look-alike "
                    "characters" + (", repaired before scoring" if repaired else " (this detector scores them as "
                                    "they are)") + ": a sign of an evasion attempt"})
    if truncated:
        out.append({"code": "truncated", "message": f"scored on its first {max_tokens} tokens only"})
    return out


def token_segments(text: str, offsets: Sequence[tuple[int, int]]) -> list[str]:
    """Each token's stretch of the text, the whitespace before the next token included, so the
    segments join back into the text."""
    if not offsets:
        return []
    starts = [0] + [s for s, _ in offsets[1:]]
    ends = starts[1:] + [len(text)]
    return [text[a:b] for a, b in zip(starts, ends)]


def gltr_rows(segments: list[str], stats: TokenStats) -> list[dict]:
    """GLTR's view: per token its text, rank under the model (1 = its top guess), probability and
    colour bucket (0 top-10, 1 top-100, 2 top-1000, 3 beyond)."""
    buckets = gltr_buckets(stats)
    probs = np.exp(stats.log_prob.astype(np.float64))
    return [{"text": seg, "rank": int(r), "prob": round(float(p), 6), "bucket": int(b)}
            for seg, r, p, b in zip(segments, stats.rank, probs, buckets)]
