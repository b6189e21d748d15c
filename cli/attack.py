"""`ovid attack`: write a corpus under evasion attacks (RAID's), for measuring detectors on it."""
from __future__ import annotations

from pathlib import Path

import typer

from ovid.attack.config import AttackConfig

from .options import argument, field_options, option, with_options

OPTIONS = [argument("corpus", str, "Corpus to attack: any format ovid reads (JSONL, Fast-DetectGPT JSON, "
                    "a folder of .txt, a table, hf:NAME)."),
           *field_options(AttackConfig, only=("attacks",), rename={"attacks": "attack"}),
           *field_options(AttackConfig, skip=("attacks",)),
           option("out", Path, ..., "Output JSONL (with a .meta.json beside it); re-run to resume."),
           option("progress", bool, True, "Show a progress bar.")]


def attack(*, corpus: str, attack: list[str], out: Path, progress: bool, **settings) -> None:
    """Attack every text of a corpus (each attack in turn); the output keeps each text's id and
    label and records the attack and its edits."""
    from ovid.attack import attack_corpus
    from ovid.models import quiet_loading

    quiet_loading(not progress)
    path, meta = attack_corpus(AttackConfig(attacks=tuple(attack), **settings), corpus, out, progress)
    typer.echo(f"{path}: {meta['n_written']} attacked texts ({', '.join(meta['attacks'])})")


command = with_options(OPTIONS, attack)
