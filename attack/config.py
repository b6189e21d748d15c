"""How `ovid attack` (and a study's [robustness] section) attacks a corpus, defined once."""
from __future__ import annotations

from dataclasses import dataclass

from ovid.settings import check_settings, seed_range, setting, training_dtype_check
from ovid.textio import DEFAULT_ENCODING, check_encoding


def _rate(value) -> str | None:
    if value is None:
        return None
    return None if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1 \
        else "must be in (0, 1]"


@dataclass(frozen=True, kw_only=True)
class AttackConfig:
    attacks: tuple[str, ...] = setting(("homoglyph",), "Attacks: homoglyph, zero_width_space, "
                                       "whitespace, upper_lower, insert_paragraphs, number, article_deletion, "
                                       "alternative_spelling, misspelling, synonym, paraphrase.")
    rate: float | None = setting(None, "Share of the units each attack edits (default: RAID's rate per attack).",
                                 check=_rate)
    seed: int = setting(0, "Random seed: each text's edits depend on it, the attack and the text's id.",
                        check=seed_range())
    attack_model: str = setting("smollm2-135m", "LM of misspelling's ranking, synonym and paraphrase: a causal "
                                "instruct LM (offline), or a masked LM (bert-base-cased) for synonyms and a "
                                "DIPPER paraphraser from the Hub.")
    dtype: str = setting("auto", "Weights of the attack model.", check=training_dtype_check)
    encoding: str = setting(DEFAULT_ENCODING, "Text encoding of the corpus (decoded strictly).")

    def __post_init__(self) -> None:
        from .registry import attack_spec

        object.__setattr__(self, "attacks", tuple(attack_spec(a).name for a in self.attacks))
        if not self.attacks:
            from ovid.errors import InputValueError

            raise InputValueError("give at least one attack")
        check_settings(self)
        check_encoding(self.encoding)
