"""RAID's word-level attacks that need no model of their own: article deletion lives with the
character attacks; here, alternative spelling and misspelling (whose LM ranking is passed in).

Two departures from RAID's code, both towards its stated intent: alternative spelling matches
whole words only (RAID's pattern also rewrites "ax" inside "relax"), and misspelling picks the
words the LM finds least likely, as the paper says (RAID's code sorts log-probabilities
descending, so it takes the most likely)."""
from __future__ import annotations

import random
from typing import Callable

from .character import sample_count
from .edits import Attacked, apply_replacements
from .units import word_spans
from .wordlists import misspellings, us_to_uk

WordScores = Callable[[str, list[tuple[int, int]]], list[float]]  # log-probability of each span


def same_case(model: str, new: str) -> str:
    """`new` written in `model`'s case pattern (lower, Title or UPPER)."""
    if model.isupper() and len(model) > 1:
        return new.upper()
    if model[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def alternative_spelling(text: str, rate: float, rng: random.Random) -> Attacked:
    """`rate` of the words with a British spelling (RAID: 1.0, all) take it."""
    table = us_to_uk()
    found = [(a, b) for a, b in word_spans(text) if text[a:b].lower() in table]
    picks = rng.sample(found, sample_count(len(found), rate))
    return apply_replacements(text, [(a, b, same_case(text[a:b], table[text[a:b].lower()])) for a, b in picks])


def misspelling(text: str, rate: float, rng: random.Random, word_scores: WordScores | None = None) -> Attacked:
    """Common misspellings for min(rate x words, candidates) words with a known misspelling;
    when there are more candidates than that, the LM's least likely ones."""
    table = misspellings()
    words = word_spans(text)
    cands = [(a, b) for a, b in words if text[a:b].lower() in table]
    k = min(int(len(words) * rate), len(cands))
    if k < len(cands):
        if word_scores is None:
            raise ValueError("misspelling needs word_scores (an LM) when it must choose among candidates")
        scores = word_scores(text, cands)
        cands = [c for _, c in sorted(zip(scores, cands))][:k]
    return apply_replacements(text, [(a, b, same_case(text[a:b], rng.choice(table[text[a:b].lower()])))
                                     for a, b in cands])
