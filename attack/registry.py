"""The attacks by name, with RAID's rates (liamdugan/raid, generation/adversarial/attack.py's
`get_attack`) as defaults, and one entry point, `attack_text`."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from ovid.errors import InputValueError
from ovid.names import did_you_mean

from . import character, lm, words
from .edits import Attacked


@dataclass(frozen=True)
class AttackSpec:
    name: str
    fn: Callable[..., Attacked]
    rate: float  # RAID's
    level: str  # character or word: what the defences can undo
    uses: str | None = None  # "lm" (an AttackLM) or "word_scores" (its ranking)


ATTACKS = {s.name: s for s in [
    AttackSpec("homoglyph", character.homoglyph, 1.0, "character"),
    AttackSpec("zero_width_space", character.zero_width_space, 1.0, "character"),
    AttackSpec("whitespace", character.whitespace, 0.2, "character"),
    AttackSpec("upper_lower", character.upper_lower, 0.05, "character"),
    AttackSpec("insert_paragraphs", character.insert_paragraphs, 0.5, "character"),
    AttackSpec("number", character.number, 0.5, "character"),
    AttackSpec("article_deletion", character.article_deletion, 0.5, "word"),
    AttackSpec("alternative_spelling", words.alternative_spelling, 1.0, "word"),
    AttackSpec("misspelling", words.misspelling, 0.2, "word", uses="word_scores"),
    AttackSpec("synonym", lm.synonym, 0.5, "word", uses="lm"),
    AttackSpec("paraphrase", lm.paraphrase, 1.0, "word", uses="lm"),
]}
ALIASES = {"zero_width": "zero_width_space", "perplexity_misspelling": "misspelling", "numbers": "number",
           "alter_number": "number", "alternative_spellings": "alternative_spelling"}
CHARACTER = tuple(n for n, s in ATTACKS.items() if s.level == "character")
WORD = tuple(n for n, s in ATTACKS.items() if s.level == "word")


def attack_spec(name: str) -> AttackSpec:
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in ATTACKS:
        raise InputValueError(f"unknown attack {name!r}; {did_you_mean(key, ATTACKS)}")
    return ATTACKS[key]


def record_rng(seed: int, attack: str, key: str) -> random.Random:
    """The random stream of one text under one attack: the same whatever else is attacked with
    it, so a resumed or partial run writes what a whole run would."""
    return random.Random(f"{seed}|{attack}|{key}")


def attack_text(name: str, text: str, rate: float | None = None, seed: int = 0, key: str = "",
                lm_model: "lm.AttackLM | None" = None) -> Attacked:
    """`text` under attack `name` at `rate` (default: RAID's), seeded by (seed, name, key)."""
    spec = attack_spec(name)
    rate = spec.rate if rate is None else rate
    rng = record_rng(seed, spec.name, key)
    if spec.uses == "lm":
        return spec.fn(text, rate, rng, lm_model or lm.AttackLM())
    if spec.uses == "word_scores":
        return spec.fn(text, rate, rng, (lm_model or lm.AttackLM()).word_scores)
    return spec.fn(text, rate, rng)


def attack_texts(name: str, texts: list[str], rate: float | None = None, seed: int = 0,
                 keys: list[str] | None = None, lm_model: "lm.AttackLM | None" = None) -> list[Attacked]:
    """`attack_text` over many texts (keys: one per text, default their positions); paraphrase
    generates the sentences of all of them in shared batches (greedy: a sentence's paraphrase
    depends on its batch only through padding's rounding); every other attack gives each text
    exactly what `attack_text` gives it."""
    spec = attack_spec(name)
    keys = [str(i) for i in range(len(texts))] if keys is None else keys
    if spec.name == "paraphrase":
        return lm.paraphrase_many(texts, [record_rng(seed, spec.name, "")], lm_model or lm.AttackLM())
    model = lm_model or (lm.AttackLM() if spec.uses else None)
    return [attack_text(name, t, rate, seed, key=k, lm_model=model) for t, k in zip(texts, keys)]
