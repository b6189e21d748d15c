"""The cue-only baseline's features: trivial surface counts of a raw text, no language model.

What a detector could win by without learning anything about machine text (modern/PROVENANCE.md
lists these cues between the two sides of the shared data): length, line breaks, punctuation,
markdown, a chat preface, case, digits and non-ASCII characters. The baseline is a logistic
regression (and a gradient-boosted model) over these, trained and measured on the same splits as
the detector, on the raw texts, so every cue is there for it to find.
"""
from __future__ import annotations

import re

import numpy as np

_PREFACE = re.compile(r"^\s*(?:\*\*|#|title:|\[assistant\]|(?:sure|certainly|okay|of course)\b|here(?:'s| is| are)\b)",
                      re.IGNORECASE)
_SENT = re.compile(r"[.!?]+(?:\s|$)")
_GLUED = re.compile(r"[a-z][.!?][A-Z]")

CUE_NAMES = ["log_chars", "log_words", "newlines_per_100w", "blank_lines_per_100w", "starts_with_preface",
             "markdown_per_100w", "commas_per_100w", "colons_per_100w", "semicolons_per_100w", "dashes_per_100w",
             "quotes_per_100w", "parens_per_100w", "exclaims_per_100w", "questions_per_100w", "mean_word_len",
             "mean_sentence_words", "upper_share", "digit_share", "non_ascii_share", "glued_per_100w"]


def cue_vector(text: str) -> np.ndarray:
    words = text.split()
    n_w = max(1, len(words))
    per = lambda k: 100.0 * k / n_w  # noqa: E731
    chars = max(1, len(text))
    return np.array([
        np.log1p(len(text)), np.log1p(len(words)), per(text.count("\n")), per(text.count("\n\n")),
        float(bool(_PREFACE.match(text))), per(text.count("**") + text.count("#") + text.count("* ")),
        per(text.count(",")), per(text.count(":")), per(text.count(";")), per(text.count("-") + text.count("—")),
        per(text.count('"') + text.count("“") + text.count("”")), per(text.count("(")), per(text.count("!")),
        per(text.count("?")), float(np.mean([len(w) for w in words])) if words else 0.0,
        n_w / max(1, len(_SENT.findall(text))), sum(c.isupper() for c in text) / chars,
        sum(c.isdigit() for c in text) / chars, sum(ord(c) > 127 for c in text) / chars,
        per(len(_GLUED.findall(text))),
    ], dtype=np.float64)


def cue_matrix(texts: list[str]) -> np.ndarray:
    return np.stack([cue_vector(t) for t in texts])
