"""Evasion attacks (RAID's eleven, offline) on texts and corpora: `attack_text` for one text,
`attack_corpus` for `ovid attack`."""
from .config import AttackConfig
from .corpus_job import attack_corpus
from .registry import ATTACKS, CHARACTER, WORD, attack_spec, attack_text, attack_texts

__all__ = ["ATTACKS", "CHARACTER", "WORD", "AttackConfig", "attack_corpus", "attack_spec", "attack_text", "attack_texts"]
